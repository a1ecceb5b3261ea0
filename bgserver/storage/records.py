"""Store of usage records (inet sessions, voice calls): a contract's, by start time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.engine import Connection


def started_between(conn: Connection, table: Table, columns: list[str], contract_id: int,
                    start: datetime | None, end: datetime | None, after_id: int | None = None,
                    limit: int | None = None) -> list[dict[str, Any]]:
    """Records of the contract that started in [start, end), by id."""
    query = select(*[table.c[c] for c in ["id", *columns]]).where(
        table.c.contract_id == contract_id)
    if start is not None:
        query = query.where(table.c.start >= start)
    if end is not None:
        query = query.where(table.c.start < end)
    if after_id is not None:
        query = query.where(table.c.id > after_id)
    query = query.order_by(table.c.id)
    if limit is not None:
        query = query.limit(limit)
    return [dict(r._mapping) for r in conn.execute(query)]
