"""Engine creation, the single unit-of-work scope, and migrations.

``Database.session_scope()`` is the one place that opens and commits sessions:
it commits when the block ends normally and rolls back on any exception.
Async callers use ``await db.run(fn, *args)``, which runs ``fn(session, *args)``
in one scope on a worker thread so the event loop never blocks on SQL.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")


class DatabaseUnavailableError(RuntimeError):
    """The database cannot be reached or opened."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def create_db_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a busy timeout, and its folder."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.drivername == "postgresql":
        url = str(parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False))
    return create_engine(url, pool_pre_ping=True)


def alembic_config(engine: Engine) -> AlembicConfig:
    """An Alembic config pointing at the packaged migrations, bound to ``engine``."""
    cfg = AlembicConfig()
    script_location = resources.files("storage") / "migrations"
    cfg.set_main_option("script_location", str(script_location))
    cfg.attributes["engine"] = engine
    return cfg


class Database:
    """Owns the engine and the session factory of one process."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_db_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def upgrade(self) -> None:
        """Apply all Alembic migrations (idempotent)."""
        try:
            with self.engine.connect():
                pass
        except OperationalError as exc:
            safe = make_url(self.url).render_as_string(hide_password=True)
            raise DatabaseUnavailableError(f"无法连接数据库 {safe}: {exc.orig}") from exc
        command.upgrade(alembic_config(self.engine), "head")

    def revisions(self) -> tuple[str | None, str | None]:
        """(revision the database is at, newest revision shipped); raises when unreachable."""
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        head = ScriptDirectory.from_config(alembic_config(self.engine)).get_current_head()
        try:
            with self.engine.connect() as connection:
                current = MigrationContext.configure(connection).get_current_revision()
        except OperationalError as exc:
            safe = make_url(self.url).render_as_string(hide_password=True)
            raise DatabaseUnavailableError(f"无法连接数据库 {safe}: {exc.orig}") from exc
        return current, head

    def listen(self, event_name: str, fn: Callable[..., Any]) -> None:
        """Register a SQLAlchemy session event (``after_commit`` …) for this database's sessions."""
        event.listen(self._sessions, event_name, fn)

    @contextmanager
    def session_scope(self) -> Iterator[Session]:
        """One unit of work: commit on success, roll back on any exception."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(session, *args, **kwargs)`` in one unit of work."""
        with self.session_scope() as session:
            return fn(session, *args, **kwargs)

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Like :meth:`call`, on a worker thread (for handlers and jobs)."""
        return await asyncio.to_thread(self.call, fn, *args, **kwargs)

    async def run_retrying(self, fn: Callable[..., T], *args: Any, attempts: int = 3, **kwargs: Any) -> T:
        """Like :meth:`run`, retrying when a concurrent writer took the same unique slot
        (two reports computing the same next version); each attempt is a fresh transaction."""
        for attempt in range(attempts):
            try:
                return await self.run(fn, *args, **kwargs)
            except IntegrityError:
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    def dispose(self) -> None:
        """Close all pooled connections."""
        self.engine.dispose()
