"""The columns every module's account table shares (inet logins, voice numbers)."""

from __future__ import annotations

from sqlalchemy import Column, Date, ForeignKey, Index, Integer, String, Table

from bgserver.storage.schema import actor_columns, metadata
from bgserver.storage.types import UtcDateTime


def account_table(name: str, *extra: Column) -> Table:
    """A contract's logins on a module instance, each over dated days (``date_to`` None:
    open-ended); a login is held by one contract of the instance at a time. Ended rows
    stay: they are the history, and usage of their days still finds its contract."""
    return Table(
        name, metadata,
        Column("id", Integer, primary_key=True),
        Column("module_id", Integer, ForeignKey("module_instance.id", ondelete="CASCADE"),
               nullable=False),
        Column("contract_id", Integer, ForeignKey("contract.id", ondelete="CASCADE"),
               nullable=False),
        #: The RADIUS User-Name, or the phone number as digits.
        Column("login", String(64), nullable=False),
        *extra,
        Column("date_from", Date, nullable=False),
        Column("date_to", Date, nullable=True),
        Column("created_at", UtcDateTime, nullable=False),
        Column("updated_at", UtcDateTime, nullable=False),
        *actor_columns(),
        Index(None, "module_id", "login", "date_from"),
        Index(None, "contract_id"),
    )
