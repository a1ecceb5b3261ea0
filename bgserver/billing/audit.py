"""The audit log: who changed what, before and after, in the transaction of the change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from bgserver.billing.access import Caller
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
        "at": now, "actor_type": caller.kind, "actor_id": caller.id, "actor_name": caller.name,
        "action": action, "object_type": object_type,
        "object_id": None if object_id is None else str(object_id), "contract_id": contract_id,
        "before": _dump(before), "after": _dump(after), "address": caller.address})


class AuditService:
    """Reading the log, limited to the caller's contract groups."""

    def __init__(self, database: Any):
        self.database = database

    async def search(self, caller: Caller, *, before_id: int | None, limit: int,
                     **filters: Any) -> dict[str, Any]:
        from bgserver.storage import audit as store  # noqa: PLC0415 - store beside its writer
        limit = max(1, min(limit, 500))
        rows = await self.database.run("search_audit", store.search, groups=caller.groups,
                                       before_id=before_id, limit=limit + 1, readonly=True,
                                       **filters)
        more = len(rows) > limit
        rows = rows[:limit]
        return {"items": rows, "next_cursor": str(rows[-1]["id"]) if more else None}
