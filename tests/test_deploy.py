"""deploy/: the container entrypoint and health check run for real (no container engine needed)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import yaml

from bot.sandbox import BotApiSandbox

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_entrypoint_migrates_runs_and_turns_healthy(sandbox: BotApiSandbox, tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "TAIZHANG_BOT_TOKEN": sandbox.token,
        "TAIZHANG_API_BASE_URL": sandbox.base_url,
        "TAIZHANG_DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}",
        "TAIZHANG_FILES_DIR": str(tmp_path / "files"),
        "TAIZHANG_METRICS_PORT": str(port),
        "TAIZHANG_LOG_FORMAT": "json",
        "TAIZHANG_REMINDERS": "off",
    }
    health = [sys.executable, str(DEPLOY / "healthcheck.py")]
    assert subprocess.run(health, env=env, capture_output=True, timeout=30).returncode == 1  # not up yet
    bot = subprocess.Popen(["sh", str(DEPLOY / "entrypoint.sh")], cwd=tmp_path, env=env, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while subprocess.run(health, env=env, capture_output=True, timeout=30).returncode != 0:
            assert bot.poll() is None, "the bot exited"
            assert time.monotonic() < deadline, "never healthy"
            time.sleep(0.3)
    finally:
        bot.send_signal(signal.SIGTERM)
        _, errors = bot.communicate(timeout=30)
    assert bot.returncode == 0
    assert sandbox.token.encode() not in errors
    assert (tmp_path / "bot.sqlite3").stat().st_size > 0


def test_compose_and_dockerfile_agree_with_the_entrypoint() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert set(compose["services"]) >= {"bot", "postgres", "minio", "bucket"}
    bot = compose["services"]["bot"]
    assert bot["environment"]["TAIZHANG_FILES_URL"] == "s3://taizhang/evidence"
    assert bot["depends_on"]["bucket"]["condition"] == "service_completed_successfully"
    assert bot["healthcheck"]["test"] == ["CMD", "python", "/usr/local/lib/taizhang-healthcheck.py"]
    assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["taizhang-entrypoint"]' in dockerfile
    for line in dockerfile.splitlines():
        if line.startswith("COPY ") and "--from" not in line:
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), source
    unit = (DEPLOY / "taizhang.service").read_text()
    assert (
        "ExecStart=/opt/taizhang/venv/bin/taizhang run" in unit and "EnvironmentFile=/etc/taizhang/taizhang.env" in unit
    )
