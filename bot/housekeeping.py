"""Daily retention and the data-version watch, as PTB JobQueue jobs.

Retention prunes bookkeeping older than ``TAIZHANG_RETENTION_DAYS`` (claims, handled inbox rows,
reminder log entries, temp files); reports, files and history are never pruned. The watch reloads
the search index and the reminder rules when another process changed the tables.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from telegram.ext import Application, ContextTypes

from bot.reminders import LOOKBACK
from handlers.deps import SERVICES_KEY, Services
from storage.housekeeping import data_version, prune_bookkeeping

log = logging.getLogger(__name__)

RETENTION_INTERVAL = timedelta(days=1)
WATCH_INTERVAL_SECONDS = 15


def prune_temp_files(folder: Path, before: datetime) -> int:
    """Remove files under ``folder`` (every instance's temp space) last modified before ``before``,
    and temp folders left empty; returns how many files."""
    removed = 0
    if not folder.is_dir():
        return 0
    for path in sorted(folder.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        try:
            if path.is_file() and path.stat().st_mtime < before.timestamp():
                path.unlink()
                removed += 1
            elif path.is_dir() and path.stat().st_mtime < before.timestamp() and not any(path.iterdir()):
                path.rmdir()
        except (FileNotFoundError, OSError):  # another process removed or refilled it first
            continue
    return removed


async def prune(services: Services, retention_days: int, now: datetime) -> dict[str, int]:
    """One retention pass; the reminder log keeps at least the reminder engine's look-back window."""
    before = now - timedelta(days=retention_days)
    reminder_log_before = min(before, now - LOOKBACK - timedelta(days=1))  # so nothing is sent twice
    removed = await services.db.run(prune_bookkeeping, before, reminder_log_before)
    removed["temp_files"] = await asyncio.to_thread(prune_temp_files, services.blobs.tmp.parent, before)
    log.info("retention (%d days): removed %s", retention_days, removed)
    return removed


@dataclass
class DataWatch:
    """Remembers the data version this process loaded; reloads when it moved."""

    seen: int = 0
    reloads: int = field(default=0)

    async def check(self, services: Services) -> bool:
        """Reload (index, rules) if the tables changed since the last check; True if it did."""
        version = await services.db.run(data_version)
        if version == self.seen:
            return False
        self.seen = version
        for callback in services.on_tables_changed:
            await asyncio.to_thread(callback)
        self.reloads += 1
        log.info("tables changed elsewhere (data version %d): reloaded", version)
        return True


def schedule(app: Application[Any, Any, Any, Any, Any, Any], retention_days: int, watch: DataWatch) -> None:
    """Retention once a day (first a few minutes after start); the data-version watch every 15 s."""

    async def retention_job(context: ContextTypes.DEFAULT_TYPE) -> None:
        services = context.bot_data.get(SERVICES_KEY)
        if isinstance(services, Services):
            await prune(services, retention_days, services.clock())

    async def watch_job(context: ContextTypes.DEFAULT_TYPE) -> None:
        services = context.bot_data.get(SERVICES_KEY)
        if isinstance(services, Services):
            await watch.check(services)

    if app.job_queue is not None:
        app.job_queue.run_repeating(retention_job, interval=RETENTION_INTERVAL, first=300, name="retention")
        app.job_queue.run_repeating(watch_job, interval=WATCH_INTERVAL_SECONDS, first=WATCH_INTERVAL_SECONDS,
                                    name="data-version")  # fmt: skip
