"""operator logins unique regardless of case

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03

A unique index on the login that compares without case: on SQLite with NOCASE (a login
holds ASCII only, which NOCASE folds); MySQL/MariaDB's utf8mb4 collations compare without
case already. Logins that differ only in case stop the upgrade with the index's error, for
the administrator to rename one.
"""
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('CREATE UNIQUE INDEX uq_operator_login_nocase '
                   'ON operator (login COLLATE NOCASE)')
    else:
        op.create_index('uq_operator_login_nocase', 'operator', ['login'], unique=True)


def downgrade() -> None:
    op.drop_index('uq_operator_login_nocase', table_name='operator')
