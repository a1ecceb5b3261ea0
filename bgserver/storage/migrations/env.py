"""Alembic environment: one migration history for SQLite and MySQL/MariaDB.

Run through ``bgbilling init`` / ``bgbilling migrate`` (``bgserver.storage.migrate``), which
hands over an open connection; plain ``alembic`` with ``-x url=...`` works too.
"""

from alembic import context
from sqlalchemy import create_engine

from bgserver.services import module_registry
from bgserver.storage.schema import metadata

module_registry()  # the module types' tables join the metadata

config = context.config


def run_with(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_with(connection)
else:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url")
    with create_engine(url).connect() as conn:
        run_with(conn)
