"""Shared fixtures: real SQLite files (and PostgreSQL when configured), the sandbox, a clock."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text

from bot.app import build_application, running
from bot.config import Config, load_config
from bot.sandbox import BotApiSandbox
from storage.db import Database

SHANGHAI = ZoneInfo("Asia/Shanghai")
POSTGRES_URL = os.environ.get("TAIZHANG_TEST_POSTGRES_URL", "")


class FakeClock:
    """An injected clock tests move by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 2, 10, 0, tzinfo=SHANGHAI))


def _postgres_database_url() -> str:
    """A fresh database on the test PostgreSQL server."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    base, _, _ = POSTGRES_URL.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL on each backend available (PostgreSQL only when configured)."""
    if request.param == "postgresql":
        if not POSTGRES_URL:
            pytest.skip("TAIZHANG_TEST_POSTGRES_URL not set")
        return _postgres_database_url()
    return f"sqlite:///{tmp_path / 'taizhang.sqlite3'}"


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'taizhang.sqlite3'}"


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    db = Database(db_url)
    db.upgrade()
    yield db
    db.dispose()


@pytest.fixture
def sandbox() -> Iterator[BotApiSandbox]:
    with BotApiSandbox() as box:
        yield box


@pytest.fixture
def config(sandbox: BotApiSandbox, db_url: str, tmp_path: Path) -> Config:
    return load_config(
        {
            "TAIZHANG_BOT_TOKEN": sandbox.token,
            "TAIZHANG_API_BASE_URL": sandbox.base_url,
            "TAIZHANG_DATABASE_URL": db_url,
            "TAIZHANG_FILES_DIR": str(tmp_path / "files"),
            "TAIZHANG_ADMINS": "1001",
            "TAIZHANG_REMINDERS": "off",  # tests drive the reminder engine with their own clock
        }
    )


@pytest.fixture
async def bot_app(config: Config, clock: FakeClock) -> AsyncIterator[object]:
    """The real PTB Application, polling the sandbox, for the duration of a test."""
    fast = Config(**{**config.__dict__, "retry_backoff_seconds": 0.01})
    app = build_application(fast, clock=clock)
    async with running(app):
        yield app


@pytest.fixture(scope="session")
def seeded_db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database with the five bundled documents imported (shared, read-only for tests)."""
    from storage.catalog import import_samples_if_empty

    path = tmp_path_factory.mktemp("seeded") / "seeded.sqlite3"
    url = f"sqlite:///{path}"
    db = Database(url)
    db.upgrade()
    db.call(import_samples_if_empty, datetime(2026, 11, 1, tzinfo=SHANGHAI))
    db.dispose()
    return url


@pytest.fixture(scope="session")
def seeded_index(seeded_db_url: str) -> object:
    """A search index over the bundled documents as stored (canonical units, ids)."""
    from knowledge.search import SearchIndex
    from storage.catalog import load_documents
    from storage.profiles import all_profiles

    db = Database(seeded_db_url)
    try:
        return SearchIndex(db.call(load_documents), profiles=db.call(all_profiles))
    finally:
        db.dispose()


@pytest.fixture
def seeded_copy_url(seeded_db_url: str, tmp_path: Path) -> str:
    """A private copy of the seeded database for a test that writes."""
    import shutil

    source = Path(seeded_db_url.removeprefix("sqlite:///"))
    target = tmp_path / "seeded-copy.sqlite3"
    shutil.copy(source, target)
    return f"sqlite:///{target}"


@pytest.fixture
async def seeded_bot(
    sandbox: BotApiSandbox, seeded_copy_url: str, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[object]:
    """The real Application on a database holding the five documents."""
    config = load_config(
        {
            "TAIZHANG_BOT_TOKEN": sandbox.token,
            "TAIZHANG_API_BASE_URL": sandbox.base_url,
            "TAIZHANG_DATABASE_URL": seeded_copy_url,
            "TAIZHANG_FILES_DIR": str(tmp_path / "files"),
            "TAIZHANG_ADMINS": "1001",
            "TAIZHANG_REMINDERS": "off",
        }
    )
    app = build_application(config, clock=clock)
    async with running(app):
        yield app
