"""rate-limit counters for logins and fresh-link requests

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 02:20:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('batasan',
    sa.Column('kunci', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('jendela', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('jumlah', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('kunci', 'jendela')
    )
    with op.batch_alter_table('batasan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_batasan_jendela'), ['jendela'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('batasan', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_batasan_jendela'))
    op.drop_table('batasan')
