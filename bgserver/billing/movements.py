"""Money movements: payments (+), charges (−) and usage (−) are kinds of one movement.

Whoever books money — an operator's payment, a periodic fee, an order, rated usage — hands
the new rows here, on contracts it has locked (:mod:`bgserver.billing.visibility`) and
checked against closed months (:func:`ledger.check_open`). They are stored, booked in the
ledger (month rows, current balance, limit), audited and announced in the caller's
transaction: one copy of the rules for every kind.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import Table
from sqlalchemy.engine import Connection

from bgserver.billing import audit, ledger
from bgserver.billing.access import Caller
from bgserver.events.outbox import emit
from bgserver.storage import money as store
from bgserver.storage.schema import charge, payment
from bgserver.storage import usage as usage_store

#: Each kind's table; usage joins them with the loader.
TABLES: dict[str, Table] = {"payment": payment, "charge": charge}
#: The column of the monthly balance row each kind adds to.
LEDGER_COLUMN = {"payment": "payments", "charge": "charges", "usage": "usage"}
#: Columns kept for the request's own bookkeeping, not shown.
HIDDEN = frozenset({"idempotency_scope", "idempotency_key", "request_hash"})
#: What the events of a movement carry besides its id, amount and date.
EVENT_FIELDS = ("type_id", "module_id", "service_id")


def view(row: dict[str, Any]) -> dict[str, Any]:
    """A movement as the API shows it (no idempotency internals)."""
    return {k: v for k, v in row.items() if k not in HIDDEN}


def signed(movement_type: Any, amount: Decimal) -> Decimal:
    """A refund is a charge of a refund type that gives money back: stored negative, so
    that it lessens the month's charges and balance = payments − charges − usage holds."""
    return -amount if getattr(movement_type, "refund", False) else amount


class NewMovement(NamedTuple):
    """One movement to book: who books it, on which locked contract, with which columns
    (``amount``, ``date``, ``type_id``, ``comment``... — the contract, the author and the
    time are added here)."""
    caller: Caller
    contract: Any
    values: dict[str, Any]


class Booked(NamedTuple):
    movement: dict[str, Any]
    #: The contract's balance right after this movement.
    balance: Decimal


def record(conn: Connection, kind: str, items: list[NewMovement], today: date,
           now: datetime) -> list[Booked]:
    """Store, book, audit and announce movements of one kind; in ``items``' order."""
    if not items:
        return []
    table = TABLES[kind]
    empty = {c.name: None for c in table.c if c.name != "id"}
    rows = [{**empty, "comment": "", "contract_id": m.contract.id, "created_at": now,
             **m.caller.actor(), **m.values} for m in items]
    ids = store.insert_movements(conn, table, rows)
    balances = ledger.book_many(conn, [
        ledger.Booking(m.contract, LEDGER_COLUMN[kind], row["amount"], row["date"])
        for m, row in zip(items, rows)], today, now)
    booked = []
    for m, row, movement_id, balance in zip(items, rows, ids, balances):
        # the row as stored, without reading it back: every column not set is empty
        created = view({**row, "id": movement_id})
        audit.record(conn, m.caller, f"{kind}.create", kind, movement_id, now=now,
                     after=created, contract_id=m.contract.id)
        emit(conn, f"{kind}.created", {
            f"{kind}_id": movement_id, "amount": row["amount"], "date": row["date"],
            **{k: row[k] for k in EVENT_FIELDS if row.get(k) is not None},
            "balance": balance}, occurred_at=now, contract_id=m.contract.id)
        booked.append(Booked(created, balance))
    return booked


class UsageTotal(NamedTuple):
    """What a contract's consumption of a service on a day now costs in all (the day's
    records rated and rolled up by its module type)."""
    contract: Any
    module_id: int
    service_id: int
    day: date
    amount: Decimal


def set_usage(conn: Connection, caller: Caller, totals: list[UsageTotal], today: date,
              now: datetime) -> list[Booked]:
    """Make each day's usage row say ``amount``: the row is added to (or made) and only
    the change is booked in the ledger, audited with before and after. A load adds to a
    day, a rerate replaces it: both are this. Rows whose amount stays are left alone."""
    keys = [(t.contract.id, t.module_id, t.service_id, t.day) for t in totals]
    return _change_usage(conn, caller, totals, keys, usage_store.rows_by_key(conn, keys),
                         today, now)


def add_usage(conn: Connection, caller: Caller, added: list[UsageTotal], today: date,
              now: datetime) -> list[Booked]:
    """Add ``amount`` to each day's usage row: the cost of records new to that day (calls
    rounded each on their own, so the day is the sum of its records)."""
    keys = [(t.contract.id, t.module_id, t.service_id, t.day) for t in added]
    existing = usage_store.rows_by_key(conn, keys)
    totals = [t._replace(amount=t.amount + existing[key]["amount"]) if key in existing else t
              for t, key in zip(added, keys)]
    return _change_usage(conn, caller, totals, keys, existing, today, now)


def _change_usage(conn: Connection, caller: Caller, totals: list[UsageTotal],
                  keys: list[usage_store.Key], existing: dict[usage_store.Key, dict[str, Any]],
                  today: date, now: datetime) -> list[Booked]:
    changes = [(t, existing.get(key)) for t, key in zip(totals, keys)
               if existing.get(key) is None and t.amount or
               existing.get(key) is not None and existing[key]["amount"] != t.amount]
    if not changes:
        return []
    ids = usage_store.save(conn, [
        (row["id"] if row else None, {
            "contract_id": t.contract.id, "module_id": t.module_id,
            "service_id": t.service_id, "date": t.day, "amount": t.amount,
            "created_at": row["created_at"] if row else now, "updated_at": now})
        for t, row in changes])
    balances = ledger.book_many(conn, [
        ledger.Booking(t.contract, LEDGER_COLUMN["usage"],
                       t.amount - (row["amount"] if row else Decimal("0.00")), t.day)
        for t, row in changes], today, now)
    booked = []
    for (t, row), usage_id, balance in zip(changes, ids, balances):
        after = {"id": usage_id, "contract_id": t.contract.id, "module_id": t.module_id,
                 "service_id": t.service_id, "date": t.day, "amount": t.amount}
        audit.record(conn, caller, "usage.update" if row else "usage.create", "usage",
                     usage_id, now=now, before={**after, "amount": row["amount"]} if row
                     else None, after=after, contract_id=t.contract.id)
        booked.append(Booked(after, balance))
    return booked
