"""Retention prunes bookkeeping only; a CLI import is seen by the running bot without a restart."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.cli import main
from bot.housekeeping import prune
from bot.sandbox import BotApiSandbox
from knowledge.bundled import sample_files
from storage.db import Database
from storage.models import (
    Base,
    InboxUpdate,
    Indicator,
    ProcessedUpdate,
    ProgressReport,
    ReminderLog,
    ReminderRule,
    ReportStatus,
    RuleKind,
    Unit,
)

NOW = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=91)
RECENT = NOW - timedelta(days=89)
USER = BotApiSandbox.user(1001, "张三")


def _fill(session: Session) -> None:
    indicator = session.scalars(select(Indicator).order_by(Indicator.id)).first()
    unit = session.scalars(select(Unit).order_by(Unit.id)).first()
    assert indicator is not None and unit is not None
    rule = ReminderRule(kind=RuleKind.MONTHLY_UNIT, title="月报", day_of_month=3, created_at=OLD)
    session.add(rule)
    session.flush()
    for update_id, when in ((1, OLD), (2, RECENT)):
        session.add(ProcessedUpdate(bot_id=1, update_id=update_id, kind="report", processed_at=when))
        payload = {"update_id": update_id}
        session.add(InboxUpdate(bot_id=1, update_id=update_id, payload=payload, received_at=when, handled=True))
        session.add(
            ReminderLog(rule_id=rule.id, occurrence_key=f"k{update_id}", chat_id=-1, status="sent", created_at=when)
        )
    session.add(InboxUpdate(bot_id=1, update_id=3, payload={"update_id": 3}, received_at=OLD, handled=False))  # kept
    session.add(
        ProgressReport(
            short_id="ROLD", indicator_id=indicator.id, unit_id=unit.id, period="2026-07", version=1,
            status=ReportStatus.DONE, text="一年前的报告", created_at=OLD - timedelta(days=300),
        )
    )  # fmt: skip


def _counts(session: Session) -> dict[str, int]:
    return {t.name: int(session.scalar(select(func.count()).select_from(t)) or 0) for t in Base.metadata.sorted_tables}


async def test_retention_prunes_bookkeeping_and_temp_files_only(seeded_copy_url: str, tmp_path: Path) -> None:
    database = Database(seeded_copy_url)
    database.call(_fill)
    before = database.call(_counts)
    temp = tmp_path / "tmp" / "this-host-1"
    temp.mkdir(parents=True)
    (temp / "old.part").write_bytes(b"x")
    (temp / "new.part").write_bytes(b"y")
    os.utime(temp / "old.part", (OLD.timestamp(), OLD.timestamp()))
    os.utime(temp / "new.part", (RECENT.timestamp(), RECENT.timestamp()))
    services: Any = SimpleNamespace(db=database, blobs=SimpleNamespace(tmp=temp))
    removed = await prune(services, 90, NOW)
    after = database.call(_counts)
    database.dispose()
    assert removed == {
        "processed_updates": 1,
        "inbox_updates": 1,
        "reminder_log": 1,
        "message_anchors": 0,
        "pending_drafts": 0,
        "temp_files": 1,
    }
    changed = {name: (before[name], after[name]) for name in before if before[name] != after[name]}
    assert changed == {"processed_updates": (2, 1), "inbox_updates": (3, 2), "reminder_log": (2, 1)}
    assert after["progress_reports"] == 1 and after["indicators"] == before["indicators"]
    assert sorted(p.name for p in temp.iterdir()) == ["new.part"]


async def test_short_retention_keeps_the_reminder_lookback(database: Database) -> None:
    def fill(session: Session) -> None:
        rule = ReminderRule(kind=RuleKind.MONTHLY_UNIT, title="月报", day_of_month=3, created_at=OLD)
        session.add(rule)
        session.flush()
        session.add(
            ReminderLog(
                rule_id=rule.id, occurrence_key="k", chat_id=-1, status="sent", created_at=NOW - timedelta(days=3)
            )
        )

    database.call(fill)
    services: Any = SimpleNamespace(db=database, blobs=SimpleNamespace(tmp=Path("/nonexistent/x")))
    removed = await prune(services, 1, NOW)  # 1 day, but the log must outlive the 14-day look-back
    assert removed["reminder_log"] == 0


async def test_cli_import_reaches_the_running_bot(
    sandbox: BotApiSandbox, bot_app: Any, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = sandbox.private_chat(USER)
    sandbox.send_text(chat, USER, "分岗设权")
    [before] = await asyncio.to_thread(sandbox.wait_for_messages, USER["id"], 1)
    assert before.text.startswith("没有找到")
    name, data = sample_files()[1]
    (tmp_path / name).write_bytes(data)
    monkeypatch.setenv("TAIZHANG_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    assert await asyncio.to_thread(main, ["import", str(tmp_path / name)]) == 0  # another process, in effect
    [job] = bot_app.job_queue.get_jobs_by_name("data-version")
    await job.run(bot_app)  # what the job queue does every 15 s
    sandbox.send_text(chat, USER, "分岗设权")
    [_, after] = await asyncio.to_thread(sandbox.wait_for_messages, USER["id"], 2)
    assert "焦作生态环境局指标体系 第45项" in after.text
