"""Store of usage rows: one per contract, module instance, service and billing day."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from bgserver.storage.database import insert_rows_returning_ids
from bgserver.storage.schema import usage

Key = tuple[int, int, int, date]


def rows_by_key(conn: Connection, keys: list[Key]) -> dict[Key, dict[str, Any]]:
    """The rows of these keys. Asked by contract ids (the unique key's first column) and
    the days' range, then picked here: a long list of row values in ``IN`` is not read
    through the index by MariaDB, but scanned."""
    found: dict[Key, dict[str, Any]] = {}
    wanted = set(keys)
    by_module: dict[int, list[Key]] = {}
    for key in wanted:
        by_module.setdefault(key[1], []).append(key)
    for module_id, some in by_module.items():
        contracts = sorted({k[0] for k in some})
        first, last = min(k[3] for k in some), max(k[3] for k in some)
        for start in range(0, len(contracts), 1000):
            for row in conn.execute(select(usage).where(
                    usage.c.contract_id.in_(contracts[start:start + 1000]),
                    usage.c.module_id == module_id, usage.c.date >= first,
                    usage.c.date <= last)):
                key = (row.contract_id, row.module_id, row.service_id, row.date)
                if key in wanted:
                    found[key] = dict(row._mapping)
    return found


def save(conn: Connection, rows: list[tuple[int | None, dict[str, Any]]]) -> list[int]:
    """Update the rows with an id, insert the others; their ids in order. A statement or
    two for the lot: a batch of records changes thousands of rows."""
    new = [values for usage_id, values in rows if usage_id is None]
    made = iter(_insert(conn, new))
    changed = [(usage_id, values) for usage_id, values in rows if usage_id is not None]
    for start in range(0, len(changed), 100):
        _update_amounts(conn, changed[start:start + 100])
    return [usage_id if usage_id is not None else next(made) for usage_id, _ in rows]


def _insert(conn: Connection, rows: list[dict[str, Any]]) -> list[int]:
    if len(rows) > 1 and conn.dialect.insert_returning:
        ids: list[int] = []
        for start in range(0, len(rows), 1000):
            chunk = rows[start:start + 1000]
            ids.extend(insert_rows_returning_ids(conn, usage, tuple(chunk[0]), chunk))
        return ids
    return [conn.execute(insert(usage).values(**values)).inserted_primary_key[0]
            for values in rows]


def _update_amounts(conn: Connection, rows: list[tuple[int, dict[str, Any]]]) -> None:
    """``amount`` and ``updated_at`` of these rows in one ``UPDATE ... CASE`` (of a
    hundred rows at most: each row walks the ``CASE``)."""
    dialect = conn.dialect
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    money = usage.c.amount.type.bind_processor(dialect) or (lambda v: v)
    moment = usage.c.updated_at.type.bind_processor(dialect) or (lambda v: v)
    quote = dialect.identifier_preparer.quote
    params: list[Any] = []
    for usage_id, values in rows:
        params += [usage_id, money(values["amount"])]
    params.append(moment(rows[0][1]["updated_at"]))
    params += [usage_id for usage_id, _ in rows]
    conn.exec_driver_sql(
        f"UPDATE {dialect.identifier_preparer.format_table(usage)} SET {quote('amount')} = "
        f"CASE {quote('id')} {' '.join([f'WHEN {mark} THEN {mark}'] * len(rows))} END, "
        f"{quote('updated_at')} = {mark} WHERE {quote('id')} IN "
        f"({', '.join([mark] * len(rows))})", tuple(params))


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
