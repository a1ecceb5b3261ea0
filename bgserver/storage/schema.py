"""The tables of the kernel and the processes. Modules add theirs to the same ``metadata``.

Alembic migrations in ``db/versions`` create exactly this; a test compares the two on
SQLite and MariaDB.
"""

from __future__ import annotations

from sqlalchemy import (BigInteger, Column, Index, Integer, MetaData, String, Table, Text,
                        UniqueConstraint)

from bgserver.storage.types import UtcDateTime

metadata = MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

#: BIGINT on MySQL, INTEGER on SQLite (where only INTEGER PRIMARY KEY autoincrements).
BigId = BigInteger().with_variant(Integer(), "sqlite")

operator = Table(
    "operator", metadata,
    Column("id", Integer, primary_key=True),
    Column("login", String(64), nullable=False),
    Column("name", String(200), nullable=False, server_default=""),
    Column("password_hash", String(200), nullable=False),
    Column("status", String(16), nullable=False, server_default="active"),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("login"),
)

# Events committed with the change that caused them; the relay publishes them afterwards.
outbox = Table(
    "outbox", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False),
    Column("type", String(64), nullable=False),
    Column("contract_id", Integer, nullable=True),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("payload", Text, nullable=False),
    Column("claimed_by", String(100), nullable=True),
    Column("claimed_until", UtcDateTime, nullable=True),
    Column("published_at", UtcDateTime, nullable=True),
    UniqueConstraint("event_id"),
    Index(None, "published_at", "id"),
)

# One row per lease name; the holder renews it, a standby takes it over when it lapses.
lease = Table(
    "lease", metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(200), nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)

scheduler_run = Table(
    "scheduler_run", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("task", String(100), nullable=False),
    Column("status", String(16), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=True),
    Column("holder", String(200), nullable=False),
    Column("result", Text, nullable=True),
    Index(None, "task", "started_at"),
)
