"""processed_updates and inbox_updates keyed by (bot_id, update_id)

A new bot token, or a restarted Bot API server, numbers updates from 1 again; keyed by the
update id alone such updates were taken for redeliveries and silently skipped.

Existing rows get the bot id of the token in ``TAIZHANG_BOT_TOKEN`` (the digits before the
colon) when it is set while migrating, else 0.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 18:20:00

"""

import os
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("processed_updates", "inbox_updates")


def configured_bot_id() -> int:
    """The bot id of the configured token, or 0."""
    prefix = os.environ.get("TAIZHANG_BOT_TOKEN", "").partition(":")[0]
    return int(prefix) if prefix.isdigit() else 0


def upgrade() -> None:
    """Add bot_id to both tables and make (bot_id, update_id) the primary key."""
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("bot_id", sa.BigInteger(), nullable=False, server_default=str(configured_bot_id()))
            )
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"pk_{table}", type_="primary")
            batch.create_primary_key(f"pk_{table}", ["bot_id", "update_id"])
            batch.alter_column("bot_id", server_default=None)


def downgrade() -> None:
    """Back to update_id alone (rows of other bots are dropped)."""
    bot_id = configured_bot_id()
    for table in TABLES:
        op.execute(sa.text(f"DELETE FROM {table} WHERE bot_id != :bot").bindparams(bot=bot_id))
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"pk_{table}", type_="primary")
            batch.create_primary_key(f"pk_{table}", ["update_id"])
            batch.drop_column("bot_id")
