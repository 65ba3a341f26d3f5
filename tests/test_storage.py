"""Storage: migrations, the unit of work (commit and rollback), SQLite pragmas, both backends."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import IntegrityError

from storage.db import Database
from storage.models import (
    Assignment,
    Document,
    Indicator,
    ProcessedUpdate,
    ReminderLog,
    ReminderRule,
    Role,
    RuleKind,
    Unit,
)

NOW = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)


def _document(doc_id: str = "doc") -> Document:
    return Document(id=doc_id, title="t", imported_at=NOW, updated_at=NOW)


@pytest.fixture
def db(any_db_url: str) -> Iterator[Database]:
    database = Database(any_db_url)
    database.upgrade()
    database.upgrade()  # idempotent
    yield database
    database.dispose()


def test_migrations_create_every_table(db: Database) -> None:
    tables = set(inspect(db.engine).get_table_names())
    assert {
        "documents",
        "indicators",
        "units",
        "unit_aliases",
        "persons",
        "assignments",
        "members",
        "chat_bindings",
        "progress_reports",
        "attachments",
        "reminder_rules",
        "reminder_log",
        "calendar_days",
        "processed_updates",
        "alembic_version",
    } <= tables


def test_unit_of_work_commits(db: Database) -> None:
    with db.session_scope() as session:
        session.add(_document())
    with db.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Document)) == 1


def test_unit_of_work_rolls_back_everything_on_error(db: Database) -> None:
    with pytest.raises(RuntimeError), db.session_scope() as session:
        session.add(_document("a"))
        session.add(Unit(name="法规科"))
        session.flush()  # the rows reached the database inside the transaction
        raise RuntimeError("boom")
    with db.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Document)) == 0
        assert session.scalar(select(func.count()).select_from(Unit)) == 0


def test_foreign_keys_are_enforced(db: Database) -> None:
    with pytest.raises(IntegrityError), db.session_scope() as session:
        session.add(Assignment(indicator_id=999, unit_id=999, role=Role.LEAD))


def test_reminder_log_key_is_unique(db: Database) -> None:
    with db.session_scope() as session:
        rule = ReminderRule(kind=RuleKind.MONTHLY_UNIT, day_of_month=3, created_at=NOW)
        session.add(rule)
        session.flush()
        rule_id = rule.id
        session.add(ReminderLog(rule_id=rule_id, occurrence_key="2026-10", chat_id=-1, created_at=NOW))
    with pytest.raises(IntegrityError), db.session_scope() as session:
        session.add(ReminderLog(rule_id=rule_id, occurrence_key="2026-10", chat_id=-1, created_at=NOW))


def test_processed_update_ids_are_unique_per_bot(db: Database) -> None:
    db.call(lambda s: s.add(ProcessedUpdate(bot_id=1, update_id=5, kind="message", processed_at=NOW)))
    db.call(lambda s: s.add(ProcessedUpdate(bot_id=2, update_id=5, kind="message", processed_at=NOW)))  # another bot
    with pytest.raises(IntegrityError):
        db.call(lambda s: s.add(ProcessedUpdate(bot_id=1, update_id=5, kind="message", processed_at=NOW)))


def test_indicator_round_trips_json_fields(db: Database) -> None:
    with db.session_scope() as session:
        session.add(_document())
        session.add(
            Indicator(
                document_id="doc",
                number="（1）",
                key="(1)",
                methods=["查阅资料", "实地查看"],
                points=2.5,
                updated_at=NOW,
            )
        )
    with db.session_scope() as session:
        indicator = session.scalars(select(Indicator)).one()
        assert indicator.methods == ["查阅资料", "实地查看"]
        assert indicator.points == 2.5
        assert indicator.number == "（1）"


def test_sqlite_runs_in_wal_mode(database: Database) -> None:
    with database.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


async def test_run_executes_on_a_worker_thread(database: Database) -> None:
    await database.run(lambda s: s.add(_document("x")))
    count = await database.run(lambda s: s.scalar(select(func.count()).select_from(Document)))
    assert count == 1
