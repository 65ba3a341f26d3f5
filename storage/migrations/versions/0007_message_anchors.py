"""message_anchors: receipts and 详情 cards a file may answer, shared by every instance

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 19:05:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the table."""
    op.create_table(
        "message_anchors",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("message_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["indicator_id"], ["indicators.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("chat_id", "message_id"),
    )
    op.create_index("ix_message_anchors_created_at", "message_anchors", ["created_at"])


def downgrade() -> None:
    """Drop it."""
    op.drop_index("ix_message_anchors_created_at", table_name="message_anchors")
    op.drop_table("message_anchors")
