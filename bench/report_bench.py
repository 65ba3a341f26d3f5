"""Report throughput and message-to-receipt latency, end to end through the local sandbox.

The bot runs as its own process (``taizhang run``: real handlers, SQLite on disk, commit
before answer) against the sandbox in this process, and receives one-line ``/report``
messages. Telegram's own send limit (30 messages/s overall, enforced by ``AIORateLimiter``)
is lifted with ``TAIZHANG_MAX_SENDS_PER_SECOND=0``: it bounds what Telegram accepts, not
what the bot can do, and would otherwise be the only thing measured.

Run: ``.venv/bin/python bench/report_bench.py [--write-readme]``.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bench.readme_block import write_block  # noqa: E402
from bot.sandbox import BotApiSandbox  # noqa: E402
from storage.catalog import import_samples_if_empty  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import Member, MemberRole, MemberStatus, ProgressReport, Unit  # noqa: E402

USERS = 20


def prepare(folder: Path) -> str:
    url = f"sqlite:///{folder / 'bench.sqlite3'}"
    db = Database(url)
    db.upgrade()
    now = datetime.now(UTC)
    db.call(import_samples_if_empty, now)
    with db.session_scope() as session:
        unit = session.scalar(select(Unit).where(Unit.name == "法规科"))
        assert unit is not None
        for user in range(USERS):
            session.add(Member(telegram_user_id=5000 + user, display_name=f"用户{user}", unit_id=unit.id,
                               role=MemberRole.MEMBER, status=MemberStatus.ACTIVE, created_at=now))  # fmt: skip
    db.dispose()
    return url


def start_bot(sandbox: BotApiSandbox, url: str, folder: Path) -> subprocess.Popen[bytes]:
    """The bot as its own process (as in production), so the sandbox does not share its GIL."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(folder),
        "TAIZHANG_BOT_TOKEN": sandbox.token,
        "TAIZHANG_API_BASE_URL": sandbox.base_url,
        "TAIZHANG_DATABASE_URL": url,
        "TAIZHANG_FILES_DIR": str(folder / "files"),
        "TAIZHANG_MAX_SENDS_PER_SECOND": "0",
    }
    with (folder / "bot.log").open("wb") as log:
        return subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], env=env, stdout=log, stderr=log, cwd=folder)


def measure(url: str, folder: Path, burst: int, paced: int, rate: float) -> dict[str, float]:
    sandbox = BotApiSandbox()
    sandbox.start()
    users = [BotApiSandbox.user(5000 + i, f"用户{i}") for i in range(USERS)]
    bot = start_bot(sandbox, url, folder)
    results: dict[str, float] = {}
    try:
        sandbox.wait_for(lambda: any(name == "getUpdates" for name, _ in sandbox.calls), 60)
        started = time.monotonic()
        for n in range(burst):
            user = users[n % USERS]
            sandbox.send_text(sandbox.private_chat(user), user, f"/report 61 已完成 批量第{n}条")
        sandbox.wait_for(lambda: len(sandbox.messages) >= burst, 300)
        results["burst_seconds"] = time.monotonic() - started
        results["throughput"] = burst / results["burst_seconds"]
        sent_times: dict[int, list[float]] = {}
        for n in range(paced):
            user = users[n % USERS]
            sent_times.setdefault(user["id"], []).append(time.monotonic())
            sandbox.send_text(sandbox.private_chat(user), user, f"/report 61 推进中 逐条第{n}条")
            time.sleep(1 / rate)  # pacing the load generator, not waiting for the bot
        sandbox.wait_for(lambda: len(sandbox.messages) >= burst + paced, 60)
        latencies = [
            (message.sent_at - sent_times[message.chat_id].pop(0)) * 1000 for message in sandbox.messages[burst:]
        ]  # receipts come back in order per chat
        ordered = sorted(latencies)
        results["p50_ms"] = statistics.median(ordered)
        results["p95_ms"] = ordered[round(0.95 * (len(ordered) - 1))]
        results["receipts"] = sum(1 for m in sandbox.messages if m.text.startswith("✅ 已登记"))
    finally:
        bot.send_signal(signal.SIGTERM)
        bot.wait(30)
        sandbox.stop()
    db = Database(url)
    with db.session_scope() as session:
        results["stored"] = float(session.scalar(select(func.count()).select_from(ProgressReport)) or 0)
    db.dispose()
    return results


def run(burst: int, paced: int, rate: float) -> str:
    with TemporaryDirectory() as folder:
        url = prepare(Path(folder))
        r = measure(url, Path(folder), burst, paced, rate)
    assert r["stored"] == burst + paced == r["receipts"], r
    return (
        f"Measured {datetime.now(UTC):%Y-%m-%d} by `python bench/report_bench.py`"
        f" (SQLite file, WAL, {USERS} users):\n\n"
        "| load | reports | result |\n|---|---|---|\n"
        f"| burst (all queued at once) | {burst} | {r['throughput']:.0f} reports/s sustained"
        f" ({r['burst_seconds']:.1f} s) |\n"
        f"| paced at {rate:.0f}/s | {paced} | message → receipt p50 {r['p50_ms']:.1f} ms,"
        f" p95 {r['p95_ms']:.1f} ms |\n\n"
        f"Every report stored once and answered: {r['stored']:.0f} rows, {r['receipts']:.0f} receipts."
    )


def write_readme(table: str) -> None:
    write_block("report-bench", table)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--paced", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--write-readme", action="store_true")
    arguments = parser.parse_args()
    result = run(arguments.burst, arguments.paced, arguments.rate)
    print(result)
    if arguments.write_readme:
        write_readme(result)
