"""attachments.stored_path relative to the files folder (ab/cd/<sha256>)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 18:30:00

Rows written before kept the path as the bot saw it (absolute, or relative to the working
directory it ran in), so a bundle made elsewhere found no file. The store lays every blob out
as ``<files>/<sha[:2]>/<sha[2:4]>/<sha>``, so the relative path follows from the sha256.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Rewrite every stored path as ``ab/cd/<sha256>`` (SQLite and PostgreSQL both have substr and ||)."""
    op.execute(
        sa.text(
            "UPDATE attachments SET stored_path = "
            "substr(sha256, 1, 2) || '/' || substr(sha256, 3, 2) || '/' || sha256"
        )
    )


def downgrade() -> None:
    """Relative paths stay valid for older code run from the files folder's parent; nothing to undo."""
