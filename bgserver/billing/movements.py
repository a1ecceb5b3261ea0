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
