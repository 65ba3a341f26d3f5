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


# End-to-end modules run on both backends when TAIZHANG_TEST_POSTGRES_URL is set (CI sets it).
BOTH_BACKENDS = (
    "test_e2e_",
    "test_crash_restart",
    "test_reminders",
    "test_delivery",
    "test_authz",
    "test_authorization",
    "test_access",
)


def _postgres_database_url(template: str | None = None) -> str:
    """A fresh database on the test PostgreSQL server (a copy of ``template`` if given)."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        copy = f' TEMPLATE "{template}"' if template else ""
        conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    admin.dispose()
    base, _, _ = POSTGRES_URL.rpartition("/")
    return f"{base}/{name}"


def _drop_postgres_database(url: str) -> None:
    """Drop a test database (WITH FORCE: a bot process killed by a test may hold connections)."""
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rpartition("/")[2]}" WITH (FORCE)'))
    admin.dispose()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """With PostgreSQL configured, end-to-end tests that use a database run on both backends."""
    uses_db = {"db_url", "seeded_copy_url"} & set(metafunc.fixturenames)
    module = metafunc.module.__name__.rpartition(".")[2]
    if POSTGRES_URL and uses_db and module.startswith(BOTH_BACKENDS):
        metafunc.parametrize("backend", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend of an end-to-end test: sqlite, or also postgresql (see above)."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL on each backend available (PostgreSQL only when configured)."""
    if request.param == "postgresql":
        if not POSTGRES_URL:
            pytest.skip("TAIZHANG_TEST_POSTGRES_URL not set")
        return _postgres_database_url()
    return f"sqlite:///{tmp_path / 'taizhang.sqlite3'}"


@pytest.fixture
def db_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """An empty database (not yet migrated) on the test's backend."""
    if backend == "postgresql":
        url = _postgres_database_url()
        yield url
        _drop_postgres_database(url)
        return
    yield f"sqlite:///{tmp_path / 'taizhang.sqlite3'}"


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


@pytest.fixture(scope="session")
def seeded_postgres_template() -> Iterator[str]:
    """A PostgreSQL database with the five documents imported, built once, copied per test."""
    from storage.catalog import import_samples_if_empty

    url = _postgres_database_url()
    db = Database(url)
    db.upgrade()
    db.call(import_samples_if_empty, datetime(2026, 11, 1, tzinfo=SHANGHAI))
    db.dispose()  # CREATE DATABASE … TEMPLATE needs the template without connections
    yield url.rpartition("/")[2]
    _drop_postgres_database(url)


@pytest.fixture
def seeded_copy_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A private copy of the seeded database for a test that writes (on the test's backend)."""
    import shutil

    if backend == "postgresql":
        url = _postgres_database_url(template=request.getfixturevalue("seeded_postgres_template"))
        yield url
        _drop_postgres_database(url)
        return
    source = Path(request.getfixturevalue("seeded_db_url").removeprefix("sqlite:///"))
    target = tmp_path / "seeded-copy.sqlite3"
    shutil.copy(source, target)
    yield f"sqlite:///{target}"


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
