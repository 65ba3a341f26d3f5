"""documents.profile: the programme profile kept beside each document

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 18:10:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the JSON profile column (filled on the next import; older rows fall back to reporting_rules)."""
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("profile", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Drop the profile column."""
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("profile")
