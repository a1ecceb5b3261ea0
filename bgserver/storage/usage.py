"""Store of usage rows: one per contract, module instance, service and billing day."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import insert, select, tuple_, update
from sqlalchemy.engine import Connection

from bgserver.storage.schema import usage

Key = tuple[int, int, int, date]


def rows_by_key(conn: Connection, keys: list[Key]) -> dict[Key, dict[str, Any]]:
    found: dict[Key, dict[str, Any]] = {}
    wanted = sorted(set(keys))
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        for row in conn.execute(select(usage).where(tuple_(
                usage.c.contract_id, usage.c.module_id, usage.c.service_id,
                usage.c.date).in_(chunk))):
            found[(row.contract_id, row.module_id, row.service_id, row.date)] = \
                dict(row._mapping)
    return found


def save(conn: Connection, rows: list[tuple[int | None, dict[str, Any]]]) -> list[int]:
    """Update the rows with an id, insert the others; their ids in order."""
    ids = []
    for usage_id, values in rows:
        if usage_id is None:
            ids.append(conn.execute(insert(usage).values(**values)).inserted_primary_key[0])
        else:
            conn.execute(update(usage).where(usage.c.id == usage_id).values(
                amount=values["amount"], updated_at=values["updated_at"]))
            ids.append(usage_id)
    return ids


def rows_between(conn: Connection, module_id: int, since: date, until: date,
                 contract_id: int | None = None) -> list[dict[str, Any]]:
    query = select(usage).where(usage.c.module_id == module_id, usage.c.date >= since,
                                usage.c.date <= until)
    if contract_id is not None:
        query = query.where(usage.c.contract_id == contract_id)
    return [dict(r._mapping) for r in conn.execute(query.order_by(usage.c.id))]


def list_usage(conn: Connection, contract_id: int, since: date | None, until: date | None,
               after_id: int | None, limit: int) -> list[dict[str, Any]]:
    query = select(usage).where(usage.c.contract_id == contract_id)
    if since is not None:
        query = query.where(usage.c.date >= since)
    if until is not None:
        query = query.where(usage.c.date <= until)
    if after_id is not None:
        query = query.where(usage.c.id > after_id)
    return [dict(r._mapping) for r in conn.execute(query.order_by(usage.c.id).limit(limit))]
