"""voice's own tables: phone numbers and rated calls."""

from __future__ import annotations

from sqlalchemy import Column, Date, ForeignKey, Index, Integer, String, Table, UniqueConstraint

from bgserver.modules.accounts_table import account_table
from bgserver.storage.schema import BigId, metadata
from bgserver.storage.types import Money, UtcDateTime

voice_number = account_table("voice_number")

voice_call = Table(
    "voice_call", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("module_id", Integer, ForeignKey("module_instance.id", ondelete="CASCADE"),
           nullable=False),
    #: The CDR's uniqueid, or a digest of its identifying fields when it has none.
    Column("call_key", String(64), nullable=False),
    Column("contract_id", Integer, ForeignKey("contract.id", ondelete="CASCADE"),
           nullable=False),
    Column("service_id", Integer, ForeignKey("service.id"), nullable=True),
    #: The billing day of its start: its cost is in that day's usage.
    Column("day", Date, nullable=False),
    Column("start", UtcDateTime, nullable=False),
    Column("answer", UtcDateTime, nullable=True),
    Column("end", UtcDateTime, nullable=True),
    Column("src", String(64), nullable=False),
    Column("dst", String(64), nullable=False),
    Column("disposition", String(16), nullable=False),
    Column("duration", Integer, nullable=False),
    Column("billsec", Integer, nullable=False),
    Column("billed_seconds", Integer, nullable=False),
    Column("prefix", String(20), nullable=True),
    Column("price_min", Money(places=6), nullable=True),
    Column("cost", Money(), nullable=False),
    UniqueConstraint("module_id", "call_key"),
    Index(None, "contract_id", "start"),
    Index(None, "module_id", "day"),
)
