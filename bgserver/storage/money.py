"""Store of money: payments, charges, their types, monthly balance rows, closed periods,
temporary limits."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, and_, delete, insert, select, update
from sqlalchemy.engine import Connection

from bgserver.storage.schema import (balance, charge_type, contract, payment, payment_type,
                                     period, temporary_limit)

ZERO = Decimal("0.00")
#: The column of the monthly row that each kind of movement adds to.
KINDS = ("payments", "charges", "usage")


def month_of(day: date) -> date:
    return day.replace(day=1)


# -- the contract's balance --------------------------------------------------------------

def add_to_balance(conn: Connection, contract_id: int, kind: str, amount: Decimal,
                   day: date, today: date) -> Decimal:
    """Book ``amount`` in the ``kind`` column of ``day``'s month (negative: undo), carry the
    change into every later month and the current balance; returns the change of balance.
    The contract is locked by the caller, so the month row cannot appear meanwhile."""
    month = month_of(day)
    delta = amount if kind == "payments" else -amount
    updated = conn.execute(update(balance).where(balance.c.contract_id == contract_id,
                                                 balance.c.month == month)
                           .values({kind: balance.c[kind] + amount,
                                    "outgoing": balance.c.outgoing + delta})).rowcount
    if not updated:
        incoming = conn.execute(select(balance.c.outgoing).where(
            balance.c.contract_id == contract_id, balance.c.month < month)
            .order_by(balance.c.month.desc()).limit(1)).scalar() or ZERO
        values = {k: ZERO for k in KINDS}
        values[kind] = amount
        conn.execute(insert(balance).values(contract_id=contract_id, month=month,
                                            incoming=incoming, outgoing=incoming + delta,
                                            **values))
    if month < month_of(today):  # nothing is booked in months to come
        conn.execute(update(balance).where(balance.c.contract_id == contract_id,
                                           balance.c.month > month)
                     .values(incoming=balance.c.incoming + delta,
                             outgoing=balance.c.outgoing + delta))
    conn.execute(update(contract).where(contract.c.id == contract_id)
                 .values(balance=contract.c.balance + delta))
    return delta


def balance_row(conn: Connection, contract_id: int, month: date) -> dict[str, Any]:
    """The month's row; a month without movements carries the previous outgoing."""
    row = conn.execute(select(balance).where(balance.c.contract_id == contract_id,
                                             balance.c.month == month)).first()
    if row is not None:
        return dict(row._mapping)
    carried = conn.execute(select(balance.c.outgoing).where(
        balance.c.contract_id == contract_id, balance.c.month < month)
        .order_by(balance.c.month.desc()).limit(1)).scalar() or ZERO
    return {"contract_id": contract_id, "month": month, "incoming": carried, "payments": ZERO,
            "charges": ZERO, "usage": ZERO, "outgoing": carried}


def current_balance(conn: Connection, contract_id: int) -> Decimal:
    return conn.execute(select(contract.c.balance).where(contract.c.id == contract_id)
                        ).scalar_one()


# -- periods -----------------------------------------------------------------------------

def is_closed(conn: Connection, month: date) -> bool:
    """Closing a month closes every month before it too."""
    return conn.execute(select(period.c.month).where(period.c.month >= month).limit(1)
                        ).first() is not None


def close_month(conn: Connection, month: date, now: datetime, actor: dict[str, Any]) -> None:
    conn.execute(insert(period).values(month=month, closed_at=now, **actor))


def list_periods(conn: Connection) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(select(period).order_by(period.c.month))]


# -- movements ---------------------------------------------------------------------------

def type_table(movement: Table) -> Table:
    return payment_type if movement is payment else charge_type


def find_type(conn: Connection, movement: Table, type_id: int | None):
    types = type_table(movement)
    query = select(types).where(types.c.id == type_id if type_id is not None
                                else types.c.is_default.is_(True)).limit(1)
    return conn.execute(query).first()


def list_types(conn: Connection, movement: Table) -> list[dict[str, Any]]:
    types = type_table(movement)
    return [dict(r._mapping) for r in conn.execute(select(types).order_by(types.c.id))]


def insert_type(conn: Connection, movement: Table, values: dict[str, Any]) -> int:
    return conn.execute(insert(type_table(movement)).values(**values)).inserted_primary_key[0]


def by_idempotency_key(conn: Connection, movement: Table, scope: str, key: str):
    return conn.execute(select(movement).where(movement.c.idempotency_scope == scope,
                                               movement.c.idempotency_key == key)).first()


def by_external_id(conn: Connection, movement: Table, type_id: int, external_id: str):
    return conn.execute(select(movement.c.id).where(movement.c.type_id == type_id,
                                                    movement.c.external_id == external_id)
                        ).first()


def insert_movement(conn: Connection, movement: Table, values: dict[str, Any]) -> int:
    return conn.execute(insert(movement).values(**values)).inserted_primary_key[0]


def get_movement(conn: Connection, movement: Table, movement_id: int,
                 contract_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(movement).where(movement.c.id == movement_id,
                                              movement.c.contract_id == contract_id)).first()
    return dict(row._mapping) if row else None


def list_movements(conn: Connection, movement: Table, contract_id: int, since: date | None,
                   until: date | None, after_id: int | None, limit: int,
                   with_deleted: bool = False) -> list[dict[str, Any]]:
    conditions = [movement.c.contract_id == contract_id]
    if since is not None:
        conditions.append(movement.c.date >= since)
    if until is not None:
        conditions.append(movement.c.date <= until)
    if after_id is not None:
        conditions.append(movement.c.id > after_id)
    if movement is payment and not with_deleted:
        conditions.append(payment.c.deleted_at.is_(None))
    return [dict(r._mapping) for r in conn.execute(
        select(movement).where(and_(*conditions)).order_by(movement.c.id).limit(limit))]


def mark_payment_deleted(conn: Connection, payment_id: int, now: datetime,
                         actor: dict[str, Any], reason: str) -> None:
    conn.execute(update(payment).where(payment.c.id == payment_id)
                 .values(deleted_at=now, delete_reason=reason, **actor))


# -- temporary limits --------------------------------------------------------------------

def temporary_limit_of(conn: Connection, contract_id: int):
    return conn.execute(select(temporary_limit).where(
        temporary_limit.c.contract_id == contract_id)).first()


def set_temporary_limit(conn: Connection, contract_id: int, values: dict[str, Any]) -> None:
    conn.execute(delete(temporary_limit).where(temporary_limit.c.contract_id == contract_id))
    conn.execute(insert(temporary_limit).values(contract_id=contract_id, **values))


def drop_temporary_limit(conn: Connection, contract_id: int) -> bool:
    return bool(conn.execute(delete(temporary_limit).where(
        temporary_limit.c.contract_id == contract_id)).rowcount)


def expired_temporary_limits(conn: Connection, today: date) -> list[int]:
    return list(conn.execute(select(temporary_limit.c.contract_id).where(
        temporary_limit.c.until < today)).scalars())
