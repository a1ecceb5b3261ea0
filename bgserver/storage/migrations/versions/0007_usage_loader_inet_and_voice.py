"""Usage as the third kind of movement; loader sources, files and quarantine; inet's
logins, sessions and daily traffic; voice's numbers and calls.

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa

import bgserver.storage.types


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inet_login',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('login', sa.String(length=64), nullable=False),
    sa.Column('password', sa.String(length=128), nullable=True),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('mac', sa.String(length=17), nullable=True),
    sa.Column('date_from', sa.Date(), nullable=False),
    sa.Column('date_to', sa.Date(), nullable=True),
    sa.Column('created_at', bgserver.storage.types.UtcDateTime(), nullable=False),
    sa.Column('updated_at', bgserver.storage.types.UtcDateTime(), nullable=False),
    sa.Column('actor_type', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_inet_login_contract_id_contract'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['module_id'], ['module_instance.id'], name=op.f('fk_inet_login_module_id_module_instance'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inet_login'))
    )
    with op.batch_alter_table('inet_login', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inet_login_contract_id'), ['contract_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inet_login_module_id_login_date_from'), ['module_id', 'login', 'date_from'], unique=False)

    op.create_table('loader_source',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('format', sa.String(length=32), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('time_zone', sa.String(length=64), nullable=False),
    sa.Column('enabled', sa.Boolean(), server_default='1', nullable=False),
    sa.Column('created_at', bgserver.storage.types.UtcDateTime(), nullable=False),
    sa.Column('updated_at', bgserver.storage.types.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['module_id'], ['module_instance.id'], name=op.f('fk_loader_source_module_id_module_instance'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loader_source')),
    sa.UniqueConstraint('name', name=op.f('uq_loader_source_name'))
    )
    op.create_table('voice_number',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('login', sa.String(length=64), nullable=False),
    sa.Column('date_from', sa.Date(), nullable=False),
    sa.Column('date_to', sa.Date(), nullable=True),
    sa.Column('created_at', bgserver.storage.types.UtcDateTime(), nullable=False),
    sa.Column('updated_at', bgserver.storage.types.UtcDateTime(), nullable=False),
    sa.Column('actor_type', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_voice_number_contract_id_contract'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['module_id'], ['module_instance.id'], name=op.f('fk_voice_number_module_id_module_instance'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voice_number'))
    )
    with op.batch_alter_table('voice_number', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voice_number_contract_id'), ['contract_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_voice_number_module_id_login_date_from'), ['module_id', 'login', 'date_from'], unique=False)

    op.create_table('inet_day',
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('seconds', sa.BigInteger(), nullable=False),
    sa.Column('bytes_down', sa.BigInteger(), nullable=False),
    sa.Column('bytes_up', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_inet_day_contract_id_contract'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['module_id'], ['module_instance.id'], name=op.f('fk_inet_day_module_id_module_instance'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_inet_day_service_id_service')),
    sa.PrimaryKeyConstraint('module_id', 'contract_id', 'service_id', 'day', name=op.f('pk_inet_day'))
    )
    op.create_table('inet_session',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('session_key', sa.String(length=128), nullable=False),
    sa.Column('session_id', sa.String(length=64), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('login', sa.String(length=64), nullable=False),
    sa.Column('nas', sa.String(length=45), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('mac', sa.String(length=64), nullable=True),
    sa.Column('start', bgserver.storage.types.UtcDateTime(), nullable=False),
    sa.Column('end', bgserver.storage.types.UtcDateTime(), nullable=True),
    sa.Column('last_update', bgserver.storage.types.UtcDateTime(), nullable=False),
    sa.Column('seconds', sa.BigInteger(), nullable=False),
    sa.Column('bytes_down', sa.BigInteger(), nullable=False),
    sa.Column('bytes_up', sa.BigInteger(), nullable=False),
    sa.Column('billable_down', sa.BigInteger(), nullable=False),
    sa.Column('cost', bgserver.storage.types.Money(), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_inet_session_contract_id_contract'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['module_id'], ['module_instance.id'], name=op.f('fk_inet_session_module_id_module_instance'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_inet_session_service_id_service')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inet_session')),
    sa.UniqueConstraint('module_id', 'session_key', name=op.f('uq_inet_session_module_id_session_key'))
    )
    with op.batch_alter_table('inet_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inet_session_contract_id_start'), ['contract_id', 'start'], unique=False)
        batch_op.create_index(batch_op.f('ix_inet_session_module_id_nas_end'), ['module_id', 'nas', 'end'], unique=False)

    op.create_table('loader_file',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('checksum', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('claimed_by', sa.String(length=200), nullable=True),
    sa.Column('claimed_until', bgserver.storage.types.UtcDateTime(), nullable=True),
    sa.Column('position', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('lines', sa.Integer(), server_default='0', nullable=False),
    sa.Column('stored', sa.Integer(), server_default='0', nullable=False),
    sa.Column('duplicates', sa.Integer(), server_default='0', nullable=False),
    sa.Column('quarantined', sa.Integer(), server_default='0', nullable=False),
    sa.Column('started_at', bgserver.storage.types.UtcDateTime(), nullable=False),
    sa.Column('finished_at', bgserver.storage.types.UtcDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['source_id'], ['loader_source.id'], name=op.f('fk_loader_file_source_id_loader_source'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loader_file')),
    sa.UniqueConstraint('source_id', 'checksum', name=op.f('uq_loader_file_source_id_checksum'))
    )
    with op.batch_alter_table('loader_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_loader_file_state'), ['state'], unique=False)

    op.create_table('usage',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('amount', bgserver.storage.types.Money(), nullable=False),
    sa.Column('created_at', bgserver.storage.types.UtcDateTime(), nullable=False),
    sa.Column('updated_at', bgserver.storage.types.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_usage_contract_id_contract')),
    sa.ForeignKeyConstraint(['module_id'], ['module_instance.id'], name=op.f('fk_usage_module_id_module_instance')),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_usage_service_id_service')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_usage')),
    sa.UniqueConstraint('contract_id', 'module_id', 'service_id', 'date', name=op.f('uq_usage_contract_id_module_id_service_id_date'))
    )
    with op.batch_alter_table('usage', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_usage_module_id_date'), ['module_id', 'date'], unique=False)

    op.create_table('voice_call',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('call_key', sa.String(length=64), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=True),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('start', bgserver.storage.types.UtcDateTime(), nullable=False),
    sa.Column('answer', bgserver.storage.types.UtcDateTime(), nullable=True),
    sa.Column('end', bgserver.storage.types.UtcDateTime(), nullable=True),
    sa.Column('src', sa.String(length=64), nullable=False),
    sa.Column('dst', sa.String(length=64), nullable=False),
    sa.Column('disposition', sa.String(length=16), nullable=False),
    sa.Column('duration', sa.Integer(), nullable=False),
    sa.Column('billsec', sa.Integer(), nullable=False),
    sa.Column('billed_seconds', sa.Integer(), nullable=False),
    sa.Column('prefix', sa.String(length=20), nullable=True),
    sa.Column('price_min', bgserver.storage.types.Money(places=6), nullable=True),
    sa.Column('cost', bgserver.storage.types.Money(), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_voice_call_contract_id_contract'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['module_id'], ['module_instance.id'], name=op.f('fk_voice_call_module_id_module_instance'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_voice_call_service_id_service')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voice_call')),
    sa.UniqueConstraint('module_id', 'call_key', name=op.f('uq_voice_call_module_id_call_key'))
    )
    with op.batch_alter_table('voice_call', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voice_call_contract_id_start'), ['contract_id', 'start'], unique=False)
        batch_op.create_index(batch_op.f('ix_voice_call_module_id_day'), ['module_id', 'day'], unique=False)

    op.create_table('quarantine',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('file_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('record', sa.Text(), nullable=False),
    sa.Column('reason', sa.String(length=255), nullable=False),
    sa.Column('created_at', bgserver.storage.types.UtcDateTime(), nullable=False),
    sa.Column('resolved_at', bgserver.storage.types.UtcDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['file_id'], ['loader_file.id'], name=op.f('fk_quarantine_file_id_loader_file'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['source_id'], ['loader_source.id'], name=op.f('fk_quarantine_source_id_loader_source'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quarantine')),
    sa.UniqueConstraint('file_id', 'line', name=op.f('uq_quarantine_file_id_line'))
    )
    with op.batch_alter_table('quarantine', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quarantine_resolved_at_id'), ['resolved_at', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('quarantine', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quarantine_resolved_at_id'))

    op.drop_table('quarantine')
    with op.batch_alter_table('voice_call', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voice_call_module_id_day'))
        batch_op.drop_index(batch_op.f('ix_voice_call_contract_id_start'))

    op.drop_table('voice_call')
    with op.batch_alter_table('usage', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_usage_module_id_date'))

    op.drop_table('usage')
    with op.batch_alter_table('loader_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_loader_file_state'))

    op.drop_table('loader_file')
    with op.batch_alter_table('inet_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inet_session_module_id_nas_end'))
        batch_op.drop_index(batch_op.f('ix_inet_session_contract_id_start'))

    op.drop_table('inet_session')
    op.drop_table('inet_day')
    with op.batch_alter_table('voice_number', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voice_number_module_id_login_date_from'))
        batch_op.drop_index(batch_op.f('ix_voice_number_contract_id'))

    op.drop_table('voice_number')
    op.drop_table('loader_source')
    with op.batch_alter_table('inet_login', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inet_login_module_id_login_date_from'))
        batch_op.drop_index(batch_op.f('ix_inet_login_contract_id'))

    op.drop_table('inet_login')
