"""npay's own table: which fee was charged for which day, the key that stops a second one."""

from __future__ import annotations

from sqlalchemy import Column, Date, ForeignKey, Integer, String, Table

from bgserver.storage.schema import BigId, metadata
from bgserver.storage.types import Money

npay_charge = Table(
    "npay_charge", metadata,
    Column("module_id", Integer, ForeignKey("module_instance.id", ondelete="CASCADE"),
           primary_key=True),
    Column("contract_id", Integer, ForeignKey("contract.id", ondelete="CASCADE"),
           primary_key=True),
    Column("service_id", Integer, ForeignKey("service.id", ondelete="CASCADE"),
           primary_key=True),
    #: The day charged (a daily fee), or the day an advance fee was charged or prorated.
    Column("day", Date, primary_key=True),
    #: ``fee``, or ``refund`` (an advance fee given back for the rest of its month).
    Column("kind", String(8), primary_key=True),
    Column("charge_id", BigId, ForeignKey("charge.id"), nullable=False),
    Column("amount", Money(), nullable=False),
)

