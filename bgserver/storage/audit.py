"""Store of the audit log (writing is ``bgserver.billing.audit.record``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.engine import Connection

from bgshared import wire

from bgserver.storage.schema import audit, contract_group_link


def search(conn: Connection, *, groups: frozenset[int] | None = None,
           contract_id: int | None = None, actor_type: str | None = None,
           actor_id: int | None = None, action: str | None = None,
           since: datetime | None = None, until: datetime | None = None,
           before_id: int | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Newest first; ``before_id`` continues a page."""
    conditions = []
    for column, value in ((audit.c.contract_id, contract_id), (audit.c.actor_type, actor_type),
                          (audit.c.actor_id, actor_id), (audit.c.action, action)):
        if value is not None:
            conditions.append(column == value)
    if since is not None:
        conditions.append(audit.c.at >= since)
    if until is not None:
        conditions.append(audit.c.at < until)
    if before_id is not None:
        conditions.append(audit.c.id < before_id)
    if groups is not None:  # a caller limited to groups reads only their contracts' rows
        conditions.append(audit.c.contract_id.in_(select(contract_group_link.c.contract_id)
                                                  .where(contract_group_link.c.group_id.in_(
                                                      sorted(groups)))))
    query = select(audit).order_by(audit.c.id.desc()).limit(limit)
    if conditions:
        query = query.where(and_(*conditions))
    rows = []
    for row in conn.execute(query):
        item = dict(row._mapping)
        item["before"] = wire.loads(item["before"]) if item["before"] else None
        item["after"] = wire.loads(item["after"]) if item["after"] else None
        rows.append(item)
    return rows
