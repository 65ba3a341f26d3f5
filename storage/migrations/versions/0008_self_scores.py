"""self scores of scored tasks (004 打分表)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 18:10:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('self_scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('scorer_telegram_id', sa.BigInteger(), nullable=True),
    sa.Column('scorer_name', sa.String(length=200), nullable=False),
    sa.Column('source_update_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicators.id'], name=op.f('fk_self_scores_indicator_id_indicators'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_self_scores_unit_id_units'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_self_scores'))
    )
    with op.batch_alter_table('self_scores', schema=None) as batch_op:
        batch_op.create_index('ix_self_scores_indicator', ['indicator_id', 'id'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('self_scores', schema=None) as batch_op:
        batch_op.drop_index('ix_self_scores_indicator')
    op.drop_table('self_scores')
