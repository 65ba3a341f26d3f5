"""Reminder fan-out: planning and sending for 2 000 bound groups.

Planning is timed on its own (median of 3); sending runs the real engine tick through the
local sandbox with the real rate limiter (Telegram's 30 messages/s overall), so the achieved
rate shows that limit is honoured and used. Run: ``.venv/bin/python bench/reminder_bench.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from bench.readme_block import write_block  # noqa: E402
from bot.app import build_application, running  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.reminders import planned, tick  # noqa: E402
from bot.sandbox import BotApiSandbox  # noqa: E402
from handlers.deps import SERVICES_KEY  # noqa: E402
from storage.catalog import import_samples_if_empty  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import Assignment, ChatBinding, ChatKind, Indicator  # noqa: E402
from storage.reminders import seed_rules  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
DOCUMENT = "000_f49af99942824fbb"


def prepare(folder: Path, groups: int) -> str:
    url = f"sqlite:///{folder / 'bench.sqlite3'}"
    db = Database(url)
    db.upgrade()
    now = datetime.now(UTC)
    db.call(import_samples_if_empty, now)
    db.call(seed_rules, now)
    with db.session_scope() as session:
        units = sorted(set(session.scalars(
            select(Assignment.unit_id).join(Indicator).where(Indicator.document_id == DOCUMENT))))  # fmt: skip
        for n in range(groups):
            session.add(ChatBinding(chat_id=-1_000_000 - n, kind=ChatKind.UNIT, unit_id=units[n % len(units)],
                                    document_id=DOCUMENT, created_at=now))  # fmt: skip
        session.add(ChatBinding(chat_id=-999, kind=ChatKind.COORDINATOR, document_id=DOCUMENT, created_at=now))
    db.dispose()
    return url


async def send_all(url: str, folder: Path) -> tuple[int, float]:
    sandbox = BotApiSandbox()
    sandbox.start()
    config = load_config({"TAIZHANG_BOT_TOKEN": sandbox.token, "TAIZHANG_API_BASE_URL": sandbox.base_url,
                          "TAIZHANG_DATABASE_URL": url, "TAIZHANG_FILES_DIR": str(folder / "files"),
                          "TAIZHANG_REMINDERS": "off"})  # fmt: skip
    app = build_application(config)
    try:
        async with running(app):
            services = app.bot_data[SERVICES_KEY]
            started = time.monotonic()
            sent = await tick(app.bot, services, datetime(2026, 9, 29, 9, 0, tzinfo=TZ))
            return len(sent), time.monotonic() - started
    finally:
        sandbox.stop()


def run(groups: int) -> str:
    with TemporaryDirectory() as folder:
        url = prepare(Path(folder), groups)
        db = Database(url)
        times = []
        for _ in range(3):
            started = time.perf_counter()
            occurrences, _ = planned(db, datetime(2026, 9, 1, tzinfo=TZ), datetime(2026, 10, 31, 23, 59, tzinfo=TZ))
            times.append(time.perf_counter() - started)
        db.dispose()
        count, seconds = asyncio.run(send_all(url, Path(folder)))
    return (
        f"Measured {datetime.now(UTC):%Y-%m-%d} by `python bench/reminder_bench.py`"
        f" ({groups} unit groups + 1 coordinator group):\n\n"
        "| step | result |\n|---|---|\n"
        f"| plan Sept–Oct 2026 | {len(occurrences)} occurrences in {statistics.median(times) * 1000:.0f} ms"
        " (median of 3) |\n"
        f"| send the 29 Sept 09:00 reminders | {count} messages in {seconds:.1f} s = {count / seconds:.1f} messages/s"
        " (Telegram's limit: 30/s) |"
    )


def write_readme(table: str) -> None:
    write_block("reminder-bench", table)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--groups", type=int, default=2000)
    parser.add_argument("--write-readme", action="store_true")
    arguments = parser.parse_args()
    result = run(arguments.groups)
    print(result)
    if arguments.write_readme:
        write_readme(result)
