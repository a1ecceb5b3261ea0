"""Module instances and their services, tariff plans, contracts' tariff periods; the tables
of the npay and rscm module types; a charge names its module instance and service.

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

import bgserver.storage.types


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('module_instance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('config', sa.Text(), nullable=False),
    sa.Column('enabled', sa.Boolean(), server_default='1', nullable=False),
    sa.Column('created_at', bgserver.storage.types.UtcDateTime(), nullable=False),
    sa.Column('updated_at', bgserver.storage.types.UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_module_instance'))
    )
    op.create_table('tariff_plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('cabinet_title', sa.String(length=200), server_default='', nullable=False),
    sa.Column('enabled', sa.Boolean(), server_default='1', nullable=False),
    sa.Column('created_at', bgserver.storage.types.UtcDateTime(), nullable=False),
    sa.Column('updated_at', bgserver.storage.types.UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tariff_plan')),
    sa.UniqueConstraint('title', name=op.f('uq_tariff_plan_title'))
    )
    op.create_table('contract_tariff',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('tariff_id', sa.Integer(), nullable=False),
    sa.Column('date_from', sa.Date(), nullable=False),
    sa.Column('date_to', sa.Date(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', bgserver.storage.types.UtcDateTime(), nullable=False),
    sa.Column('actor_type', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_contract_tariff_contract_id_contract'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tariff_id'], ['tariff_plan.id'], name=op.f('fk_contract_tariff_tariff_id_tariff_plan')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_tariff'))
    )
    with op.batch_alter_table('contract_tariff', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_tariff_contract_id_date_from'), ['contract_id', 'date_from'], unique=False)
        batch_op.create_index(batch_op.f('ix_contract_tariff_tariff_id_date_from'), ['tariff_id', 'date_from'], unique=False)

    op.create_table('service',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('unit', sa.String(length=32), server_default='', nullable=False),
    sa.Column('enabled', sa.Boolean(), server_default='1', nullable=False),
    sa.Column('created_at', bgserver.storage.types.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['module_id'], ['module_instance.id'], name=op.f('fk_service_module_id_module_instance'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service'))
    )
    with op.batch_alter_table('service', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_module_id'), ['module_id'], unique=False)

    op.create_table('tariff_module',
    sa.Column('tariff_id', sa.Integer(), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('config', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['module_id'], ['module_instance.id'], name=op.f('fk_tariff_module_module_id_module_instance')),
    sa.ForeignKeyConstraint(['tariff_id'], ['tariff_plan.id'], name=op.f('fk_tariff_module_tariff_id_tariff_plan'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tariff_id', 'module_id', name=op.f('pk_tariff_module'))
    )
    with op.batch_alter_table('tariff_module', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tariff_module_module_id'), ['module_id'], unique=False)

    op.create_table('tariff_plan_group',
    sa.Column('tariff_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['contract_group.id'], name=op.f('fk_tariff_plan_group_group_id_contract_group'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tariff_id'], ['tariff_plan.id'], name=op.f('fk_tariff_plan_group_tariff_id_tariff_plan'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tariff_id', 'group_id', name=op.f('pk_tariff_plan_group'))
    )
    op.create_table('npay_charge',
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('charge_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('amount', bgserver.storage.types.Money(), nullable=False),
    sa.ForeignKeyConstraint(['charge_id'], ['charge.id'], name=op.f('fk_npay_charge_charge_id_charge')),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_npay_charge_contract_id_contract'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['module_id'], ['module_instance.id'], name=op.f('fk_npay_charge_module_id_module_instance'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_npay_charge_service_id_service'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('module_id', 'contract_id', 'service_id', 'day', 'kind', name=op.f('pk_npay_charge'))
    )
    op.create_table('rscm_order',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('price', bgserver.storage.types.Money(), nullable=False),
    sa.Column('amount', bgserver.storage.types.Money(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('charge_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', bgserver.storage.types.UtcDateTime(), nullable=False),
    sa.Column('actor_type', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=200), nullable=False),
    sa.Column('cancelled_at', bgserver.storage.types.UtcDateTime(), nullable=True),
    sa.Column('refund_charge_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('cancelled_by_actor_type', sa.String(length=16), nullable=True),
    sa.Column('cancelled_by_actor_id', sa.Integer(), nullable=True),
    sa.Column('cancelled_by_actor_name', sa.String(length=200), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['charge_id'], ['charge.id'], name=op.f('fk_rscm_order_charge_id_charge')),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_rscm_order_contract_id_contract'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['module_id'], ['module_instance.id'], name=op.f('fk_rscm_order_module_id_module_instance'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['refund_charge_id'], ['charge.id'], name=op.f('fk_rscm_order_refund_charge_id_charge')),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_rscm_order_service_id_service')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rscm_order'))
    )
    with op.batch_alter_table('rscm_order', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rscm_order_contract_id_id'), ['contract_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rscm_order_module_id'), ['module_id'], unique=False)

    with op.batch_alter_table('charge', schema=None) as batch_op:
        batch_op.alter_column('module_instance_id', new_column_name='module_id',
                              existing_type=sa.Integer(), existing_nullable=True)
    with op.batch_alter_table('charge', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_charge_service_id_service'), 'service', ['service_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_charge_module_id_module_instance'), 'module_instance', ['module_id'], ['id'])

    charge_types = sa.table("charge_type", sa.column("id", sa.Integer),
                            sa.column("title", sa.String), sa.column("is_default", sa.Boolean),
                            sa.column("refund", sa.Boolean))
    # what npay and rscm instances book their charges as, unless configured otherwise
    op.bulk_insert(charge_types, [
        {"id": 4, "title": "Periodic fees", "is_default": False, "refund": False},
        {"id": 5, "title": "One-time services", "is_default": False, "refund": False}])


def downgrade() -> None:
    with op.batch_alter_table('charge', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_charge_module_id_module_instance'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_charge_service_id_service'), type_='foreignkey')
        batch_op.alter_column('module_id', new_column_name='module_instance_id',
                              existing_type=sa.Integer(), existing_nullable=True)
    op.execute("DELETE FROM charge_type WHERE id IN (4, 5)")

    with op.batch_alter_table('rscm_order', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rscm_order_module_id'))
        batch_op.drop_index(batch_op.f('ix_rscm_order_contract_id_id'))

    op.drop_table('rscm_order')
    op.drop_table('npay_charge')
    op.drop_table('tariff_plan_group')
    with op.batch_alter_table('tariff_module', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tariff_module_module_id'))

    op.drop_table('tariff_module')
    with op.batch_alter_table('service', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_module_id'))

    op.drop_table('service')
    with op.batch_alter_table('contract_tariff', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_tariff_tariff_id_date_from'))
        batch_op.drop_index(batch_op.f('ix_contract_tariff_contract_id_date_from'))

    op.drop_table('contract_tariff')
    op.drop_table('tariff_plan')
    op.drop_table('module_instance')
