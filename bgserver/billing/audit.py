"""The audit log: who changed what, before and after, in the transaction of the change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from bgserver.billing.access import Caller
from bgserver.billing.paging import page, page_size
from bgserver.storage import audit as store
from bgserver.storage.database import insert_later
from bgserver.storage.schema import audit
from bgshared import wire

#: Keys whose values never reach the audit log (nor any log).
SECRET_KEYS = frozenset({"password", "password_hash", "token", "token_hash", "key", "key_hash",
                         "secret", "passcode", "cabinet_password", "cabinet_password_hash"})
HIDDEN = "***"


def scrub(value: Any) -> Any:
    """A copy with every secret replaced by ``***`` (so a change to it still shows)."""
    if isinstance(value, dict):
        return {k: (HIDDEN if k in SECRET_KEYS and v is not None else scrub(v))
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(v) for v in value]
    return value


def _dump(value: dict[str, Any] | None) -> str | None:
    if value is None:
        return None
    return wire.dumps(scrub(value))


def record(conn: Connection, caller: Caller, action: str, object_type: str,
           object_id: Any, *, now: datetime, before: dict[str, Any] | None = None,
           after: dict[str, Any] | None = None, contract_id: int | None = None) -> None:
    insert_later(conn, audit, {
        "at": now, **caller.actor(), "action": action, "object_type": object_type,
        "object_id": None if object_id is None else str(object_id), "contract_id": contract_id,
        "before": _dump(before), "after": _dump(after), "address": caller.address})


class AuditService:
    """Reading the log, limited to the caller's contract groups."""

    def __init__(self, database: Any):
        self.database = database

    async def search(self, caller: Caller, *, before_id: int | None, limit: int,
                     **filters: Any) -> dict[str, Any]:
        size = page_size(limit)
        rows = await self.database.run("search_audit", store.search, groups=caller.groups,
                                       before_id=before_id, limit=size + 1, readonly=True,
                                       **filters)
        return page(rows, size)
