"""parameters, statuses, money, balance, periods

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa

import bgserver.storage.types


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('charge_type',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('is_default', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('refund', sa.Boolean(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['charge_type.id'], name=op.f('fk_charge_type_parent_id_charge_type')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_charge_type'))
    )
    op.create_table('param_definition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('options', sa.Text(), nullable=True),
    sa.Column('cabinet_read', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('cabinet_write', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('history', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('created_at', bgserver.storage.types.UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_param_definition')),
    sa.UniqueConstraint('key', name=op.f('uq_param_definition_key'))
    )
    op.create_table('payment_type',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('is_default', sa.Boolean(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['payment_type.id'], name=op.f('fk_payment_type_parent_id_payment_type')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_type'))
    )
    op.create_table('period',
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('closed_at', bgserver.storage.types.UtcDateTime(), nullable=False),
    sa.Column('actor_type', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('month', name=op.f('pk_period'))
    )
    op.create_table('balance',
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('incoming', bgserver.storage.types.Money(), nullable=False),
    sa.Column('payments', bgserver.storage.types.Money(), nullable=False),
    sa.Column('charges', bgserver.storage.types.Money(), nullable=False),
    sa.Column('usage', bgserver.storage.types.Money(), nullable=False),
    sa.Column('outgoing', bgserver.storage.types.Money(), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_balance_contract_id_contract'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('contract_id', 'month', name=op.f('pk_balance'))
    )
    op.create_table('charge',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('amount', bgserver.storage.types.Money(), nullable=False),
    sa.Column('type_id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', bgserver.storage.types.UtcDateTime(), nullable=False),
    sa.Column('actor_type', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=200), nullable=False),
    sa.Column('external_id', sa.String(length=100), nullable=True),
    sa.Column('idempotency_scope', sa.String(length=64), nullable=True),
    sa.Column('idempotency_key', sa.String(length=200), nullable=True),
    sa.Column('request_hash', sa.String(length=64), nullable=True),
    sa.Column('module_instance_id', sa.Integer(), nullable=True),
    sa.Column('service_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_charge_contract_id_contract')),
    sa.ForeignKeyConstraint(['type_id'], ['charge_type.id'], name=op.f('fk_charge_type_id_charge_type')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_charge')),
    sa.UniqueConstraint('idempotency_scope', 'idempotency_key', name=op.f('uq_charge_idempotency_scope_idempotency_key')),
    sa.UniqueConstraint('type_id', 'external_id', name=op.f('uq_charge_type_id_external_id'))
    )
    with op.batch_alter_table('charge', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_charge_contract_id_date'), ['contract_id', 'date'], unique=False)

    op.create_table('contract_param',
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('param_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('search', sa.String(length=191), nullable=False),
    sa.Column('updated_at', bgserver.storage.types.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_contract_param_contract_id_contract'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['param_id'], ['param_definition.id'], name=op.f('fk_contract_param_param_id_param_definition'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('contract_id', 'param_id', name=op.f('pk_contract_param'))
    )
    with op.batch_alter_table('contract_param', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_param_search'), ['search'], unique=False)

    op.create_table('contract_param_history',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('param_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Text(), nullable=True),
    sa.Column('changed_at', bgserver.storage.types.UtcDateTime(), nullable=False),
    sa.Column('actor_type', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_contract_param_history_contract_id_contract'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['param_id'], ['param_definition.id'], name=op.f('fk_contract_param_history_param_id_param_definition'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_param_history'))
    )
    with op.batch_alter_table('contract_param_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_param_history_contract_id_param_id_id'), ['contract_id', 'param_id', 'id'], unique=False)

    op.create_table('contract_status',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=True),
    sa.Column('date_from', sa.Date(), nullable=False),
    sa.Column('date_to', sa.Date(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('applied', sa.Boolean(), nullable=False),
    sa.Column('created_at', bgserver.storage.types.UtcDateTime(), nullable=False),
    sa.Column('actor_type', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_contract_status_contract_id_contract'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_status'))
    )
    with op.batch_alter_table('contract_status', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_status_applied_date_from'), ['applied', 'date_from'], unique=False)
        batch_op.create_index(batch_op.f('ix_contract_status_contract_id_date_from'), ['contract_id', 'date_from'], unique=False)

    op.create_table('payment',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('amount', bgserver.storage.types.Money(), nullable=False),
    sa.Column('type_id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', bgserver.storage.types.UtcDateTime(), nullable=False),
    sa.Column('actor_type', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=200), nullable=False),
    sa.Column('external_id', sa.String(length=100), nullable=True),
    sa.Column('idempotency_scope', sa.String(length=64), nullable=True),
    sa.Column('idempotency_key', sa.String(length=200), nullable=True),
    sa.Column('request_hash', sa.String(length=64), nullable=True),
    sa.Column('deleted_at', bgserver.storage.types.UtcDateTime(), nullable=True),
    sa.Column('deleted_by_actor_type', sa.String(length=16), nullable=True),
    sa.Column('deleted_by_actor_id', sa.Integer(), nullable=True),
    sa.Column('deleted_by_actor_name', sa.String(length=200), nullable=True),
    sa.Column('delete_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_payment_contract_id_contract')),
    sa.ForeignKeyConstraint(['type_id'], ['payment_type.id'], name=op.f('fk_payment_type_id_payment_type')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment')),
    sa.UniqueConstraint('idempotency_scope', 'idempotency_key', name=op.f('uq_payment_idempotency_scope_idempotency_key')),
    sa.UniqueConstraint('type_id', 'external_id', name=op.f('uq_payment_type_id_external_id'))
    )
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_contract_id_date'), ['contract_id', 'date'], unique=False)

    op.create_table('temporary_limit',
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('limit', bgserver.storage.types.Money(), nullable=False),
    sa.Column('until', sa.Date(), nullable=False),
    sa.Column('created_at', bgserver.storage.types.UtcDateTime(), nullable=False),
    sa.Column('actor_type', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_temporary_limit_contract_id_contract'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('contract_id', name=op.f('pk_temporary_limit'))
    )

    # Starting directories of payment and charge types; operators add their own.
    payment_types = sa.table("payment_type", sa.column("id", sa.Integer),
                             sa.column("title", sa.String), sa.column("is_default", sa.Boolean))
    op.bulk_insert(payment_types, [{"id": 1, "title": "Cash", "is_default": True},
                                   {"id": 2, "title": "Bank transfer", "is_default": False},
                                   {"id": 3, "title": "Card", "is_default": False}])
    charge_types = sa.table("charge_type", sa.column("id", sa.Integer),
                            sa.column("title", sa.String), sa.column("is_default", sa.Boolean),
                            sa.column("refund", sa.Boolean))
    op.bulk_insert(charge_types, [
        {"id": 1, "title": "Services", "is_default": True, "refund": False},
        {"id": 2, "title": "Equipment", "is_default": False, "refund": False},
        {"id": 3, "title": "Refund", "is_default": False, "refund": True}])


def downgrade() -> None:
    op.drop_table('temporary_limit')
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_contract_id_date'))

    op.drop_table('payment')
    with op.batch_alter_table('contract_status', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_status_contract_id_date_from'))
        batch_op.drop_index(batch_op.f('ix_contract_status_applied_date_from'))

    op.drop_table('contract_status')
    with op.batch_alter_table('contract_param_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_param_history_contract_id_param_id_id'))

    op.drop_table('contract_param_history')
    with op.batch_alter_table('contract_param', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_param_search'))

    op.drop_table('contract_param')
    with op.batch_alter_table('charge', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_charge_contract_id_date'))

    op.drop_table('charge')
    op.drop_table('balance')
    op.drop_table('period')
    op.drop_table('payment_type')
    op.drop_table('param_definition')
    op.drop_table('charge_type')
