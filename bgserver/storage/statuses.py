"""Store of contract status periods."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.engine import Connection

from bgserver.billing.access import Caller
from bgserver.storage.schema import contract, contract_status


def current(conn: Connection, contract_id: int):
    """The period in force: the latest applied one."""
    return current_before(conn, contract_id, None)


def current_before(conn: Connection, contract_id: int, excluding: int | None):
    """The period in force, leaving out ``excluding`` (the one being applied now)."""
    query = select(contract_status).where(
        contract_status.c.contract_id == contract_id, contract_status.c.applied.is_(True))
    if excluding is not None:
        query = query.where(contract_status.c.id != excluding)
    return conn.execute(query.order_by(contract_status.c.date_from.desc(),
                                       contract_status.c.id.desc()).limit(1)).first()


def insert_period(conn: Connection, contract_id: int, status: str, reason: str | None,
                  day: date, comment: str, applied: bool, caller: Caller,
                  now: datetime) -> int:
    return conn.execute(insert(contract_status).values(
        contract_id=contract_id, status=status, reason=reason, date_from=day, comment=comment,
        applied=applied, created_at=now, **caller.actor())).inserted_primary_key[0]


def close_period(conn: Connection, period_id: int, last_day: date) -> None:
    conn.execute(update(contract_status).where(contract_status.c.id == period_id)
                 .values(date_to=last_day))


def delete_period(conn: Connection, period_id: int) -> None:
    conn.execute(delete(contract_status).where(contract_status.c.id == period_id))


def mark_applied(conn: Connection, period_id: int) -> None:
    conn.execute(update(contract_status).where(contract_status.c.id == period_id)
                 .values(applied=True))


def set_contract_status(conn: Connection, contract_id: int, status: str, now: datetime) -> None:
    conn.execute(update(contract).where(contract.c.id == contract_id)
                 .values(status=status, updated_at=now))


def due(conn: Connection, today: date) -> list[Any]:
    """Scheduled changes whose day has come, oldest first."""
    return conn.execute(select(contract_status).where(and_(
        contract_status.c.applied.is_(False), contract_status.c.date_from <= today))
        .order_by(contract_status.c.date_from, contract_status.c.id)).all()


def history(conn: Connection, contract_id: int) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(select(contract_status).where(
        contract_status.c.contract_id == contract_id).order_by(
        contract_status.c.date_from, contract_status.c.id))]
