"""contract words: search by the start of any word of number, title, parameter values

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('contract_word',
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('word', sa.String(length=64).with_variant(mysql.VARCHAR(length=64, collation='utf8mb4_bin'), 'mysql'), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_contract_word_contract_id_contract'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('contract_id', 'source', 'word', name=op.f('pk_contract_word'))
    )
    with op.batch_alter_table('contract_word', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_word_word_contract_id'), ['word', 'contract_id'], unique=False)
    fill(op.get_bind())


def fill(conn) -> None:
    """The words of the contracts there are, as the stores write them from now on."""
    from bgserver.billing.params import search_text
    from bgserver.storage import words

    contract = sa.table('contract', sa.column('id'), sa.column('number'), sa.column('title'))
    value = sa.table('contract_param', sa.column('contract_id'), sa.column('param_id'),
                     sa.column('value'))
    definition = sa.table('param_definition', sa.column('id'), sa.column('type'))
    after = 0
    while True:
        rows = conn.execute(sa.select(contract.c.id, contract.c.number, contract.c.title)
                            .where(contract.c.id > after).order_by(contract.c.id)
                            .limit(5000)).all()
        if not rows:
            return
        first, after = rows[0].id, rows[-1].id
        texts = [(r.id, column, getattr(r, column)) for r in rows
                 for column in ('number', 'title')]
        texts += [(v.contract_id, words.source_of_param(v.param_id), search_text(v.type, v.value))
                  for v in conn.execute(
                      sa.select(value.c.contract_id, value.c.param_id, value.c.value,
                                definition.c.type)
                      .join(definition, definition.c.id == value.c.param_id)
                      .where(value.c.contract_id.between(first, after)))]
        words.insert_words(conn, texts)


def downgrade() -> None:
    with op.batch_alter_table('contract_word', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_word_word_contract_id'))

    op.drop_table('contract_word')
