"""operators, roles, sessions, API keys, audit, contracts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

import bgserver.storage.types


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', bgserver.storage.types.UtcDateTime(), nullable=False),
    sa.Column('actor_type', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('object_type', sa.String(length=32), nullable=False),
    sa.Column('object_id', sa.String(length=64), nullable=True),
    sa.Column('contract_id', sa.Integer(), nullable=True),
    sa.Column('before', sa.Text(), nullable=True),
    sa.Column('after', sa.Text(), nullable=True),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit'))
    )
    with op.batch_alter_table('audit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_actor_type_actor_id_id'), ['actor_type', 'actor_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_contract_id_id'), ['contract_id', 'id'], unique=False)

    op.create_table('contract',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('person_type', sa.String(length=16), server_default='person', nullable=False),
    sa.Column('mode', sa.String(length=16), server_default='prepaid', nullable=False),
    sa.Column('limit', bgserver.storage.types.Money(), server_default='0', nullable=False),
    sa.Column('balance', bgserver.storage.types.Money(), server_default='0', nullable=False),
    sa.Column('status', sa.String(length=16), server_default='active', nullable=False),
    sa.Column('date_from', sa.Date(), nullable=False),
    sa.Column('date_to', sa.Date(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('cabinet_password_hash', sa.String(length=200), nullable=True),
    sa.Column('created_at', bgserver.storage.types.UtcDateTime(), nullable=False),
    sa.Column('updated_at', bgserver.storage.types.UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract')),
    sa.UniqueConstraint('number', name=op.f('uq_contract_number'))
    )
    with op.batch_alter_table('contract', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_title'), ['title'], unique=False)

    op.create_table('contract_group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_group')),
    sa.UniqueConstraint('title', name=op.f('uq_contract_group_title'))
    )
    op.create_table('login_attempt',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('realm', sa.String(length=16), nullable=False),
    sa.Column('login', sa.String(length=64), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('at', bgserver.storage.types.UtcDateTime(), nullable=False),
    sa.Column('success', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempt'))
    )
    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_attempt_realm_address_at'), ['realm', 'address', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_attempt_realm_login_at'), ['realm', 'login', 'at'], unique=False)

    op.create_table('number_sequence',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_number_sequence'))
    )
    op.create_table('role',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('builtin', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('created_at', bgserver.storage.types.UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_role')),
    sa.UniqueConstraint('name', name=op.f('uq_role_name'))
    )
    op.create_table('api_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', bgserver.storage.types.UtcDateTime(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('revoked_at', bgserver.storage.types.UtcDateTime(), nullable=True),
    sa.Column('last_used_at', bgserver.storage.types.UtcDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['operator.id'], name=op.f('fk_api_key_created_by_operator'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_key')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_api_key_key_hash'))
    )
    op.create_table('auth_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('operator_id', sa.Integer(), nullable=False),
    sa.Column('created_at', bgserver.storage.types.UtcDateTime(), nullable=False),
    sa.Column('expires_at', bgserver.storage.types.UtcDateTime(), nullable=False),
    sa.Column('last_seen_at', bgserver.storage.types.UtcDateTime(), nullable=False),
    sa.Column('revoked_at', bgserver.storage.types.UtcDateTime(), nullable=True),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['operator_id'], ['operator.id'], name=op.f('fk_auth_session_operator_id_operator'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_session')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_auth_session_token_hash'))
    )
    with op.batch_alter_table('auth_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auth_session_operator_id'), ['operator_id'], unique=False)

    op.create_table('contract_group_link',
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_contract_group_link_contract_id_contract'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], ['contract_group.id'], name=op.f('fk_contract_group_link_group_id_contract_group'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('contract_id', 'group_id', name=op.f('pk_contract_group_link'))
    )
    with op.batch_alter_table('contract_group_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_group_link_group_id_contract_id'), ['group_id', 'contract_id'], unique=False)

    op.create_table('operator_contract_group',
    sa.Column('operator_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['contract_group.id'], name=op.f('fk_operator_contract_group_group_id_contract_group'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['operator_id'], ['operator.id'], name=op.f('fk_operator_contract_group_operator_id_operator'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('operator_id', 'group_id', name=op.f('pk_operator_contract_group'))
    )
    op.create_table('operator_role',
    sa.Column('operator_id', sa.Integer(), nullable=False),
    sa.Column('role_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['operator_id'], ['operator.id'], name=op.f('fk_operator_role_operator_id_operator'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['role_id'], ['role.id'], name=op.f('fk_operator_role_role_id_role'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('operator_id', 'role_id', name=op.f('pk_operator_role'))
    )
    op.create_table('role_permission',
    sa.Column('role_id', sa.Integer(), nullable=False),
    sa.Column('permission', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['role_id'], ['role.id'], name=op.f('fk_role_permission_role_id_role'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('role_id', 'permission', name=op.f('pk_role_permission'))
    )
    op.create_table('api_key_role',
    sa.Column('api_key_id', sa.Integer(), nullable=False),
    sa.Column('role_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['api_key_id'], ['api_key.id'], name=op.f('fk_api_key_role_api_key_id_api_key'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['role_id'], ['role.id'], name=op.f('fk_api_key_role_role_id_role'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('api_key_id', 'role_id', name=op.f('pk_api_key_role'))
    )

    # The built-in role: every permission, now and later.
    role = sa.table("role", sa.column("name", sa.String), sa.column("builtin", sa.Boolean),
                    sa.column("created_at", bgserver.storage.types.UtcDateTime))
    op.bulk_insert(role, [{"name": "admin", "builtin": True,
                           "created_at": datetime.now(timezone.utc)}])


def downgrade() -> None:
    op.drop_table('api_key_role')
    op.drop_table('role_permission')
    op.drop_table('operator_role')
    op.drop_table('operator_contract_group')
    with op.batch_alter_table('contract_group_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_group_link_group_id_contract_id'))

    op.drop_table('contract_group_link')
    with op.batch_alter_table('auth_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auth_session_operator_id'))

    op.drop_table('auth_session')
    op.drop_table('api_key')
    op.drop_table('role')
    op.drop_table('number_sequence')
    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_attempt_realm_login_at'))
        batch_op.drop_index(batch_op.f('ix_login_attempt_realm_address_at'))

    op.drop_table('login_attempt')
    op.drop_table('contract_group')
    with op.batch_alter_table('contract', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_title'))

    op.drop_table('contract')
    with op.batch_alter_table('audit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_contract_id_id'))
        batch_op.drop_index(batch_op.f('ix_audit_at'))
        batch_op.drop_index(batch_op.f('ix_audit_actor_type_actor_id_id'))

    op.drop_table('audit')
