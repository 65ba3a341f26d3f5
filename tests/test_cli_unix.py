"""The CLI behaves like a Unix tool: quiet on a closed pipe, errors on stderr with a non-zero exit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _env(db_url: str) -> dict[str, str]:
    return {**os.environ, "TAIZHANG_DATABASE_URL": db_url, "PYTHONPATH": str(ROOT)}


def test_search_piped_into_head_ends_quietly(seeded_db_url: str, tmp_path: Path) -> None:
    questions = "执法文书格式谁负责\n" * 400
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "search", "--stdin"],
        cwd=tmp_path,
        env=_env(seeded_db_url),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None and process.stderr is not None
    process.stdin.write(questions.encode())
    process.stdin.close()
    first = process.stdout.readline()  # what `head -1` reads before it exits
    process.stdout.close()
    code = process.wait(timeout=60)
    assert first.startswith(b'{"query": "\xe6\x89\xa7\xe6\xb3\x95')
    error_output = process.stderr.read()
    process.stderr.close()
    assert error_output == b""
    assert code == 141


def test_errors_go_to_stderr_with_a_non_zero_exit(seeded_db_url: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "template", "--out", str(tmp_path)],
        cwd=tmp_path,
        env=_env(seeded_db_url),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout == ""
    assert result.stderr == f"错误：Is a directory（{tmp_path}）\n"
    assert result.returncode == 1
