"""the subscriber cabinet: its sessions and the promised payments taken there

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa

import bgserver.storage.types


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cabinet_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('created_at', bgserver.storage.types.UtcDateTime(), nullable=False),
    sa.Column('last_seen_at', bgserver.storage.types.UtcDateTime(), nullable=False),
    sa.Column('expires_at', bgserver.storage.types.UtcDateTime(), nullable=False),
    sa.Column('revoked_at', bgserver.storage.types.UtcDateTime(), nullable=True),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_cabinet_session_contract_id_contract'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cabinet_session')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_cabinet_session_token_hash'))
    )
    with op.batch_alter_table('cabinet_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cabinet_session_contract_id'), ['contract_id'], unique=False)

    op.create_table('promised_payment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('amount', bgserver.storage.types.Money(), nullable=False),
    sa.Column('until', sa.Date(), nullable=False),
    sa.Column('created_at', bgserver.storage.types.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_promised_payment_contract_id_contract'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promised_payment'))
    )
    with op.batch_alter_table('promised_payment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_promised_payment_contract_id_created_at'), ['contract_id', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('promised_payment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_promised_payment_contract_id_created_at'))
    op.drop_table('promised_payment')
    with op.batch_alter_table('cabinet_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cabinet_session_contract_id'))
    op.drop_table('cabinet_session')
