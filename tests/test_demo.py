"""The offline demo, driven by a scripted stdin in a subprocess, as a user would run it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_demo_answers_help_and_exits(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo"],
        input="/help\n/group\n/help@taizhang_sandbox_bot\n/quit\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "首次运行：已导入 5 份示例文档，共 360 项指标" in out
    assert out.count("🤖 可用命令") == 2
    assert "/start — 开始使用台账助手" in out
    assert "再见。" in out
    assert (tmp_path / "data" / "taizhang.sqlite3").is_file()
    assert "Traceback" not in result.stderr
