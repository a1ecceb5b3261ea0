"""Store of money: payments, charges, their types, monthly balance rows, closed periods,
temporary limits."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache, lru_cache
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import (Table, and_, bindparam, case, delete, func, insert, literal, or_, select,
                        tuple_, update)
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from bgserver.storage.database import insert_rows_returning_ids
from bgserver.storage.schema import (balance, charge, charge_type, contract, payment,
                                     payment_type, period, temporary_limit)

ZERO = Decimal("0.00")
#: The column of the monthly row that each kind of movement adds to.
KINDS = ("payments", "charges", "usage")


def month_of(day: date) -> date:
    return day.replace(day=1)


# -- the contract's balance --------------------------------------------------------------

def add_to_balances(conn: Connection, changes: list[BalanceChange], today: date) -> list[Decimal]:
    """Book each change in the ``kind`` column of its day's month (a negative amount
    undoes), carry it into every later month and the current balance; returns the change
    of balance of each. The contracts are locked by the caller.

    Changes dated this month, the usual case, take one statement for all contracts: a
    month row that is not there yet starts from the contract's balance, which is the
    outgoing of its latest month. A back-dated change takes a few statements of its own.
    """
    this_month = month_of(today)
    deltas: list[Decimal] = []
    balances: dict[int, Decimal] = {}  # before this month's changes
    totals: dict[int, Decimal] = {}  # each contract's change of balance
    sums: dict[int, dict[str, Decimal]] = {}
    for change in changes:
        delta = change.amount if change.kind == "payments" else -change.amount
        deltas.append(delta)
        balances.setdefault(change.contract_id, change.balance)
        totals[change.contract_id] = totals.get(change.contract_id, ZERO) + delta
        month = month_of(change.day)
        if month < this_month:
            _add_to_past_month(conn, change.contract_id, change.kind, change.amount, delta,
                               month)
            balances[change.contract_id] += delta
        else:
            sums.setdefault(change.contract_id, dict.fromkeys(KINDS, ZERO))[change.kind] += \
                change.amount
    if sums:
        rows = []
        for contract_id, added in sums.items():
            incoming = balances[contract_id]
            rows.append({"contract_id": contract_id, "month": this_month, "incoming": incoming,
                         **added, "outgoing": incoming + added["payments"] - added["charges"]
                         - added["usage"]})
        _add_to_month_rows(conn, rows)
    ordered = sorted(totals.items())
    for start in range(0, len(ordered), BALANCES_A_STATEMENT):
        chunk = ordered[start:start + BALANCES_A_STATEMENT]
        values: dict[str, Any] = {"ids": [contract_id for contract_id, _ in chunk]}
        for k, (contract_id, delta) in enumerate(chunk):
            values[f"i{k}"], values[f"d{k}"] = contract_id, delta
        conn.execute(_balance_update(len(chunk)), values)
    return deltas


#: Each contract's row walks the ``CASE`` of the balance update: past a hundred
#: contracts, several statements cost less than one.
BALANCES_A_STATEMENT = 100


class BalanceChange(NamedTuple):
    contract_id: int
    #: The contract's balance before these changes (its locked row's).
    balance: Decimal
    #: ``payments``, ``charges`` or ``usage``.
    kind: str
    amount: Decimal
    day: date


def _add_to_month_rows(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert this month's rows, or add their movements to the rows already there."""
    conn.execute(_month_upsert(conn.dialect.name), rows)


@cache
def _month_upsert(dialect: str):
    if dialect == "mysql":
        upsert = mysql_insert(balance)
        new = upsert.inserted
        return upsert.on_duplicate_key_update(
            {**{k: balance.c[k] + new[k] for k in KINDS},
             "outgoing": balance.c.outgoing + new.outgoing - new.incoming})
    upsert = sqlite_insert(balance)
    new = upsert.excluded
    return upsert.on_conflict_do_update(
        index_elements=[balance.c.contract_id, balance.c.month],
        set_={**{k: balance.c[k] + new[k] for k in KINDS},
              "outgoing": balance.c.outgoing + new.outgoing - new.incoming})


@lru_cache(maxsize=512)
def _balance_update(contracts: int):
    """Add ``d<k>`` to the balance of contract ``i<k>``, for ``contracts`` contracts at once."""
    money = contract.c.balance.type
    return update(contract).where(contract.c.id.in_(bindparam("ids", expanding=True))).values(
        balance=contract.c.balance + case(
            *[(contract.c.id == bindparam(f"i{k}"), bindparam(f"d{k}", type_=money))
              for k in range(contracts)], else_=literal(ZERO, money)))


def _add_to_past_month(conn: Connection, contract_id: int, kind: str, amount: Decimal,
                       delta: Decimal, month: date) -> None:
    """A back-dated movement: its month's row (made from the month before if missing) and
    every later month's row."""
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
    conn.execute(update(balance).where(balance.c.contract_id == contract_id,
                                       balance.c.month > month)
                 .values(incoming=balance.c.incoming + delta,
                         outgoing=balance.c.outgoing + delta))


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

def closed_through(conn: Connection) -> date | None:
    """The last closed month: closing a month closes every month before it too."""
    return conn.execute(_CLOSED_THROUGH).scalar()


_CLOSED_THROUGH = select(func.max(period.c.month))


def is_closed(conn: Connection, month: date) -> bool:
    through = closed_through(conn)
    return through is not None and month <= through


def close_month(conn: Connection, month: date, now: datetime, actor: dict[str, Any]) -> None:
    conn.execute(insert(period).values(month=month, closed_at=now, **actor))


def list_periods(conn: Connection) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(select(period).order_by(period.c.month))]


# -- movements ---------------------------------------------------------------------------

def type_table(movement: Table) -> Table:
    return payment_type if movement is payment else charge_type


def find_type(conn: Connection, movement: Table, type_id: int | None):
    return find_types(conn, movement, {type_id}).get(type_id)


def find_types(conn: Connection, movement: Table, type_ids: set[int | None]) -> dict[int | None, Any]:
    """Type rows by id; ``None`` stands for the default type. Unknown ids are left out."""
    found: dict[int | None, Any] = {}
    for row in conn.execute(_TYPES[movement.name],
                            {"ids": sorted(i for i in type_ids if i is not None)}):
        if row.id in type_ids:
            found[row.id] = row
        if row.is_default and None in type_ids:
            found.setdefault(None, row)
    return found


#: The default type and the types asked for.
_TYPES = {movement.name: select(types).where(or_(
    types.c.is_default.is_(True), types.c.id.in_(bindparam("ids", expanding=True))))
    .order_by(types.c.id) for movement, types in ((payment, payment_type), (charge, charge_type))}


def list_types(conn: Connection, movement: Table) -> list[dict[str, Any]]:
    types = type_table(movement)
    return [dict(r._mapping) for r in conn.execute(select(types).order_by(types.c.id))]


def insert_type(conn: Connection, movement: Table, values: dict[str, Any]) -> int:
    return conn.execute(insert(type_table(movement)).values(**values)).inserted_primary_key[0]


def by_idempotency_keys(conn: Connection, movement: Table,
                        keys: list[tuple[str, str]]) -> dict[tuple[str, str], Any]:
    """Movements by (caller scope, ``Idempotency-Key``)."""
    if not keys:
        return {}
    rows = conn.execute(select(movement).where(
        tuple_(movement.c.idempotency_scope, movement.c.idempotency_key).in_(keys)))
    return {(r.idempotency_scope, r.idempotency_key): r for r in rows}


def booked_external_ids(conn: Connection, movement: Table,
                        wanted: list[tuple[int, str]]) -> set[tuple[int, str]]:
    """Which of these (type id, external id) pairs are booked already."""
    if not wanted:
        return set()
    return {(r.type_id, r.external_id) for r in conn.execute(
        select(movement.c.type_id, movement.c.external_id).where(
            tuple_(movement.c.type_id, movement.c.external_id).in_(wanted)))}


def insert_movements(conn: Connection, movement: Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert rows of one shape; returns their ids in order. One statement where the
    database returns the ids of a many-row insert (MariaDB, SQLite)."""
    if len(rows) > 1 and conn.dialect.insert_returning:
        return insert_rows_returning_ids(conn, movement, tuple(rows[0]), rows)
    return [conn.execute(insert(movement).values(**row)).inserted_primary_key[0]
            for row in rows]


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
