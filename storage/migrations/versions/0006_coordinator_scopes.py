"""coordinator scopes: the programmes (documents) a coordinator coordinates

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 18:00:00

An existing coordinator is scoped to the documents of the coordinator groups they bound
(``chat_bindings.bound_by``); one who bound none stays unscoped (= every programme, as before).
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: Union[str, Sequence[str], None] = "0005"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Create coordinator_scopes and fill it from the coordinator groups each coordinator bound."""
    op.create_table(
        "coordinator_scopes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_coordinator_scopes_member_id_members"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_coordinator_scopes_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coordinator_scopes")),
        sa.UniqueConstraint("member_id", "document_id", name=op.f("uq_coordinator_scopes_member_id")),
    )
    op.execute(
        """
        INSERT INTO coordinator_scopes (member_id, document_id)
        SELECT DISTINCT m.id, c.document_id
        FROM members m JOIN chat_bindings c ON c.bound_by = m.telegram_user_id
        WHERE m.role = 'coordinator' AND c.kind = 'coordinator' AND c.document_id IS NOT NULL
        """
    )


def downgrade() -> None:
    """Drop coordinator_scopes."""
    op.drop_table("coordinator_scopes")
