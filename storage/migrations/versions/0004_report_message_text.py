"""report message text: the whole message as sent, beside its details

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 18:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add progress_reports.message_text."""
    with op.batch_alter_table("progress_reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("message_text", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    """Drop progress_reports.message_text."""
    with op.batch_alter_table("progress_reports", schema=None) as batch_op:
        batch_op.drop_column("message_text")
