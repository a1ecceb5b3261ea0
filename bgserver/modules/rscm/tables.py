"""rscm's own table: the orders of one-time services, each booked as a charge."""

from __future__ import annotations

from sqlalchemy import Column, Date, ForeignKey, Index, Integer, Table, Text

from bgserver.storage.schema import BigId, actor_columns, metadata
from bgserver.storage.types import Money, UtcDateTime

rscm_order = Table(
    "rscm_order", metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("module_id", Integer, ForeignKey("module_instance.id", ondelete="CASCADE"),
           nullable=False),
    Column("contract_id", Integer, ForeignKey("contract.id", ondelete="CASCADE"),
           nullable=False),
    Column("service_id", Integer, ForeignKey("service.id"), nullable=False),
    Column("quantity", Integer, nullable=False),
    #: The price of one unit, from the tariff in force on ``date``.
    Column("price", Money(), nullable=False),
    Column("amount", Money(), nullable=False),
    Column("date", Date, nullable=False),
    Column("comment", Text, nullable=False),
    Column("charge_id", BigId, ForeignKey("charge.id"), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    *actor_columns(),
    #: A cancelled order keeps its row; its money came back as a refund charge.
    Column("cancelled_at", UtcDateTime, nullable=True),
    Column("refund_charge_id", BigId, ForeignKey("charge.id"), nullable=True),
    *actor_columns("cancelled_by_"),
    Column("cancel_reason", Text, nullable=True),
    Index(None, "contract_id", "id"),
    Index(None, "module_id"),
)
