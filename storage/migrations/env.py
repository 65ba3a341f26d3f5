"""Alembic environment: runs against the engine handed in by ``storage.db``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from storage.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if not isinstance(engine, Engine):
        raise RuntimeError("storage.migrations expects an engine in config.attributes['engine']")
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        context.run_migrations()


run_migrations_online()
