"""The ledger: every movement of money updates its month, the months after it and the
contract's current balance in one transaction, under the contract's row lock; then the
limit decides whether a prepaid contract is blocked or freed."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, NamedTuple

from sqlalchemy.engine import Connection

from bgserver.billing import statuses
from bgserver.billing.access import Caller, system_caller
from bgserver.billing.errors import Conflict, Invalid
from bgserver.events.outbox import emit
from bgserver.storage import money as store
from bgserver.storage import statuses as status_store
from bgserver.storage import contracts as contract_store

LIMITS = system_caller("limits")


def check_open(caller: Caller, day: date, closed_through: date | None) -> None:
    """A closed month refuses movements unless the caller may edit closed periods."""
    month = store.month_of(day)
    if closed_through is not None and month <= closed_through \
            and not caller.can("period.edit_closed"):
        raise Conflict(f"{month:%Y-%m} is closed", {"month": f"{month:%Y-%m}"})


def check_started(contract, day: date) -> None:
    """No money moves on a day before the contract began (its month rows start there)."""
    if day < contract.date_from:
        raise Invalid(f"the contract began on {contract.date_from}",
                      {"date": day, "date_from": contract.date_from})


class Booking(NamedTuple):
    #: The contract's money row, locked (:mod:`bgserver.billing.visibility`).
    contract: Any
    #: ``payments``, ``charges`` or ``usage``.
    kind: str
    amount: Decimal
    day: date


def book(conn: Connection, caller: Caller, contract, kind: str, amount: Decimal,
         day: date, today: date, now: datetime) -> Decimal:
    """Book one movement on a locked contract; returns the new balance."""
    check_open(caller, day, store.closed_through(conn))
    return book_many(conn, [Booking(contract, kind, amount, day)], today, now)[0]


def book_many(conn: Connection, bookings: list[Booking], today: date,
              now: datetime) -> list[Decimal]:
    """Book movements (already checked against closed months) on locked contracts; returns
    the balance after each. Then each contract's limit is enforced on its final balance."""
    deltas = store.add_to_balances(conn, [store.BalanceChange(
        b.contract.id, b.contract.balance, b.kind, b.amount, b.day) for b in bookings], today)
    balances: dict[int, Decimal] = {}
    after = []
    for booking, delta in zip(bookings, deltas):
        contract_id = booking.contract.id
        balance = balances.get(contract_id, booking.contract.balance) + delta
        balances[contract_id] = balance
        after.append(balance)
        emit(conn, "balance.changed", {"balance": balance, "change": delta,
                                       "month": f"{booking.day:%Y-%m}"},
             occurred_at=now, contract_id=contract_id)
    rows = {b.contract.id: b.contract for b in bookings}
    for contract_id, balance in balances.items():
        enforce_limit(conn, contract_id, today, now,
                      SimpleNamespace(**{**rows[contract_id]._asdict(), "balance": balance}))
    return after


def limit_of(conn: Connection, contract, today: date) -> Decimal:
    """The limit in force: a temporary one (a promised payment) can only lower the
    contract's own, for its days."""
    temporary = store.temporary_limit_of(conn, contract.id)
    if temporary is None or temporary.until < today:
        return contract.limit
    return min(contract.limit, temporary.limit)


def below_limit(conn: Connection, contract, today: date) -> bool:
    if contract.mode != "prepaid" or contract.balance >= contract.limit:
        return False
    return contract.balance < limit_of(conn, contract, today)


def enforce_limit(conn: Connection, contract_id: int, today: date, now: datetime,
                  contract=None) -> Decimal:
    """Block a prepaid contract whose balance is below its limit; free one blocked for its
    balance once the balance is back (or it became postpaid). Returns the balance.
    ``contract``: its locked row, when the caller has it at hand."""
    row = contract or contract_store.money_row(conn, contract_id, lock=True)
    below = below_limit(conn, row, today)
    if row.status == "active" and below:
        statuses.change(conn, LIMITS, contract_id, "blocked", "balance", today,
                        f"balance {row.balance} below the limit", today, now)
    elif row.status == "blocked" and not below:
        current = status_store.current(conn, contract_id)
        if current is not None and current.reason == "balance":
            statuses.change(conn, LIMITS, contract_id, "active", None, today,
                            f"balance {row.balance} back within the limit", today, now)
    return row.balance


def expire_temporary_limits(conn: Connection, today: date, now: datetime) -> int:
    """Give back each contract its own limit once a temporary one has run out."""
    expired = store.expired_temporary_limits(conn, today)
    for contract_id in expired:
        contract_store.money_row(conn, contract_id, lock=True)
        store.drop_temporary_limit(conn, contract_id)
        emit(conn, "contract.changed", {"fields": ["temporary_limit"]}, occurred_at=now,
             contract_id=contract_id)
        enforce_limit(conn, contract_id, today, now)
    return len(expired)
