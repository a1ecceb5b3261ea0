"""inet's own tables: access logins, RADIUS sessions, and each day's traffic and time."""

from __future__ import annotations

from sqlalchemy import (BigInteger, Column, Date, ForeignKey, Index, Integer, String, Table,
                        UniqueConstraint)

from bgserver.modules.accounts_table import account_table
from bgserver.storage.schema import BigId, metadata
from bgserver.storage.types import Money, UtcDateTime

inet_login = account_table(
    "inet_login",
    #: The RADIUS password (a secret: never in the audit log nor any log).
    Column("password", String(128), nullable=True),
    Column("ip", String(45), nullable=True),
    Column("mac", String(17), nullable=True),
)

# One row per RADIUS session; its counters only grow, so a record seen again (a reload,
# an overlapping file) adds nothing.
inet_session = Table(
    "inet_session", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("module_id", Integer, ForeignKey("module_instance.id", ondelete="CASCADE"),
           nullable=False),
    #: Acct-Unique-Session-Id, or NAS-IP-Address/Acct-Session-Id.
    Column("session_key", String(128), nullable=False),
    Column("session_id", String(64), nullable=False),
    Column("contract_id", Integer, ForeignKey("contract.id", ondelete="CASCADE"),
           nullable=False),
    Column("service_id", Integer, ForeignKey("service.id"), nullable=False),
    Column("login", String(64), nullable=False),
    Column("nas", String(45), nullable=False),
    Column("ip", String(45), nullable=True),
    Column("mac", String(64), nullable=True),
    Column("start", UtcDateTime, nullable=False),
    #: Set by a Stop, or by an Accounting-On/Off of its NAS.
    Column("end", UtcDateTime, nullable=True),
    Column("last_update", UtcDateTime, nullable=False),
    Column("seconds", BigInteger, nullable=False),
    Column("bytes_down", BigInteger, nullable=False),
    Column("bytes_up", BigInteger, nullable=False),
    #: Of ``bytes_down``, what was past the month's included megabytes when it came.
    Column("billable_down", BigInteger, nullable=False),
    #: The session's exact cost rounded for display; the money is in the day's usage.
    Column("cost", Money(), nullable=False),
    UniqueConstraint("module_id", "session_key"),
    Index(None, "contract_id", "start"),
    Index(None, "module_id", "nas", "end"),
)

# What a contract consumed on a service each billing day: the usage of the day is priced
# from this, once, by the tariff of that day (design §3).
inet_day = Table(
    "inet_day", metadata,
    Column("module_id", Integer, ForeignKey("module_instance.id", ondelete="CASCADE"),
           primary_key=True),
    Column("contract_id", Integer, ForeignKey("contract.id", ondelete="CASCADE"),
           primary_key=True),
    Column("service_id", Integer, ForeignKey("service.id"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("seconds", BigInteger, nullable=False),
    Column("bytes_down", BigInteger, nullable=False),
    Column("bytes_up", BigInteger, nullable=False),
)
