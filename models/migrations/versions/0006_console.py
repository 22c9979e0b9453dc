"""the HR console: roles with unit scopes, server-side sessions, OpenID Connect subjects, an
append-only audit log that names its source and person, tasks closed on someone's behalf, the
digest preference

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 00:50:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

from models.audit_guard import AUDIT_GUARD_PG, AUDIT_GUARD_SQLITE


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

def upgrade() -> None:
    bind = op.get_bind()
    pg = bind.dialect.name == 'postgresql'

    # the role becomes text (a new role must not need an enum type change), stored as its value
    if pg:
        op.execute("ALTER TABLE hruser ALTER COLUMN role TYPE VARCHAR(20) USING lower(role::text)")
        op.execute("DROP TYPE IF EXISTS hrrole")
    else:
        with op.batch_alter_table('hruser', schema=None) as batch_op:
            batch_op.alter_column('role', existing_type=sa.Enum('ADMIN', 'AUDITOR', name='hrrole'),
                                  type_=sqlmodel.sql.sqltypes.AutoString(length=20),
                                  existing_nullable=False)
        op.execute("UPDATE hruser SET role = lower(role)")
    with op.batch_alter_table('hruser', schema=None) as batch_op:
        batch_op.add_column(sa.Column('oidc_subject', sqlmodel.sql.sqltypes.AutoString(length=255),
                                      nullable=True))
        batch_op.create_unique_constraint('uq_hruser_oidc_subject', ['oidc_subject'])

    op.create_table('hruserunit',
    sa.Column('hr_user_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['hr_user_id'], ['hruser.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('hr_user_id', 'unit_id')
    )
    op.create_table('hrsesi',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('hr_user_id', sa.Integer(), nullable=False),
    sa.Column('metode', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['hr_user_id'], ['hruser.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('hrsesi', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hrsesi_token_hash'), ['token_hash'], unique=True)
        batch_op.create_index(batch_op.f('ix_hrsesi_hr_user_id'), ['hr_user_id'], unique=False)

    with op.batch_alter_table('auditlog', schema=None) as batch_op:
        batch_op.add_column(sa.Column('via', sqlmodel.sql.sqltypes.AutoString(length=120),
                                      nullable=False, server_default='sistem'))
        batch_op.add_column(sa.Column('pegawai_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('cycle_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_auditlog_actor'), ['actor'], unique=False)
        batch_op.create_index(batch_op.f('ix_auditlog_pegawai_id'), ['pegawai_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_auditlog_cycle_id'), ['cycle_id'], unique=False)
    for statement in (AUDIT_GUARD_PG if pg else AUDIT_GUARD_SQLITE):
        op.execute(statement)

    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_by', sqlmodel.sql.sqltypes.AutoString(length=120),
                                      nullable=True))
        batch_op.add_column(sa.Column('close_reason', sqlmodel.sql.sqltypes.AutoString(length=2000),
                                      nullable=True))

    with op.batch_alter_table('pegawai', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ringkasan', sqlmodel.sql.sqltypes.AutoString(length=10),
                                      nullable=False, server_default='otomatis'))
        batch_op.add_column(sa.Column('ringkasan_terakhir', sqlmodel.sql.sqltypes.UTCDateTime(),
                                      nullable=True))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS auditlog_no_change ON auditlog")
        op.execute("DROP FUNCTION IF EXISTS auditlog_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS auditlog_no_update")
        op.execute("DROP TRIGGER IF EXISTS auditlog_no_delete")
    with op.batch_alter_table('pegawai', schema=None) as batch_op:
        batch_op.drop_column('ringkasan_terakhir')
        batch_op.drop_column('ringkasan')
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.drop_column('close_reason')
        batch_op.drop_column('closed_by')
    with op.batch_alter_table('auditlog', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auditlog_cycle_id'))
        batch_op.drop_index(batch_op.f('ix_auditlog_pegawai_id'))
        batch_op.drop_index(batch_op.f('ix_auditlog_actor'))
        batch_op.drop_column('cycle_id')
        batch_op.drop_column('pegawai_id')
        batch_op.drop_column('via')
    op.drop_table('hrsesi')
    op.drop_table('hruserunit')
    with op.batch_alter_table('hruser', schema=None) as batch_op:
        batch_op.drop_constraint('uq_hruser_oidc_subject', type_='unique')
        batch_op.drop_column('oidc_subject')
