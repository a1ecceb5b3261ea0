"""Reads for the balance check: a batch of contracts with their balances, their month rows
and the ledger's sums per month, all in one transaction (one snapshot)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import extract, func, select
from sqlalchemy.engine import Connection

from bgserver.storage.schema import balance, charge, contract, payment, usage

#: The movements of the ledger: the month row's column each adds to, its table, and which
#: of its rows count. Usage joins them with its table.
LEDGER = (
    ("payments", payment, payment.c.deleted_at.is_(None)),
    ("charges", charge, None),
    ("usage", usage, None),
)


def contract_count(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(contract)).scalar_one()


def read_batch(conn: Connection, after_id: int, size: int) -> dict[str, Any]:
    """Up to ``size`` contracts after ``after_id``: ``contracts`` (id -> balance),
    ``rows`` (their month rows) and ``sums`` ((contract, month, column) -> amount)."""
    contracts = {r.id: r.balance for r in conn.execute(
        select(contract.c.id, contract.c.balance).where(contract.c.id > after_id)
        .order_by(contract.c.id).limit(size))}
    if not contracts:
        return {"contracts": {}, "rows": [], "sums": {}}
    first, last = min(contracts), max(contracts)
    rows = [dict(r._mapping) for r in conn.execute(
        select(balance).where(balance.c.contract_id.between(first, last))
        .order_by(balance.c.contract_id, balance.c.month))]
    sums: dict[tuple[int, date, str], Decimal] = {}
    for column, table, counted in LEDGER:
        year, month = extract("year", table.c.date), extract("month", table.c.date)
        query = (select(table.c.contract_id, year.label("y"), month.label("m"),
                        func.sum(table.c.amount).label("amount"))
                 .where(table.c.contract_id.between(first, last))
                 .group_by(table.c.contract_id, year, month))
        if counted is not None:
            query = query.where(counted)
        for r in conn.execute(query):
            sums[(r.contract_id, date(int(r.y), int(r.m), 1), column)] = r.amount
    return {"contracts": contracts, "rows": rows, "sums": sums}
