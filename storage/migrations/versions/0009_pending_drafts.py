"""pending_drafts: previews waiting for 确认, shared by every instance

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 19:10:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the table."""
    op.create_table(
        "pending_drafts",
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token"),
    )
    op.create_index("ix_pending_drafts_created_at", "pending_drafts", ["created_at"])


def downgrade() -> None:
    """Drop it."""
    op.drop_index("ix_pending_drafts_created_at", table_name="pending_drafts")
    op.drop_table("pending_drafts")
