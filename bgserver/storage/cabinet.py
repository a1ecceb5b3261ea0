"""Store of the subscriber cabinet: its sessions, the contract's credentials, the
promised payments taken there."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from bgserver.storage.access import token_hash
from bgserver.storage.schema import (balance, cabinet_session, charge, contract,
                                     promised_payment)


def credentials(conn: Connection, number: str):
    """(id, number, cabinet_password_hash, status) of the contract with this number."""
    return conn.execute(select(contract.c.id, contract.c.number,
                               contract.c.cabinet_password_hash, contract.c.status)
                        .where(contract.c.number == number)).first()


def password_hash(conn: Connection, contract_id: int) -> str | None:
    return conn.execute(select(contract.c.cabinet_password_hash)
                        .where(contract.c.id == contract_id)).scalar()


# -- sessions --------------------------------------------------------------------------

def insert_session(conn: Connection, token: str, contract_id: int, now: datetime,
                   expires_at: datetime, address: str | None) -> int:
    return conn.execute(insert(cabinet_session).values(
        token_hash=token_hash(token), contract_id=contract_id, created_at=now,
        last_seen_at=now, expires_at=expires_at, address=(address or "")[:64] or None)
    ).inserted_primary_key[0]


def session_by_token(conn: Connection, token: str):
    return conn.execute(
        select(cabinet_session.c.id, cabinet_session.c.contract_id,
               cabinet_session.c.last_seen_at, cabinet_session.c.expires_at,
               cabinet_session.c.revoked_at, contract.c.number)
        .join(contract, contract.c.id == cabinet_session.c.contract_id)
        .where(cabinet_session.c.token_hash == token_hash(token))).first()


def touch_session(conn: Connection, session_id: int, now: datetime) -> None:
    conn.execute(update(cabinet_session).where(cabinet_session.c.id == session_id)
                 .values(last_seen_at=now))


def revoke_session(conn: Connection, session_id: int, now: datetime) -> None:
    conn.execute(update(cabinet_session).where(cabinet_session.c.id == session_id,
                                               cabinet_session.c.revoked_at.is_(None))
                 .values(revoked_at=now))


def revoke_sessions(conn: Connection, contract_id: int, now: datetime) -> int:
    """Every open session of the contract ends (its cabinet password changed)."""
    return conn.execute(update(cabinet_session).where(
        cabinet_session.c.contract_id == contract_id, cabinet_session.c.revoked_at.is_(None))
        .values(revoked_at=now)).rowcount


# -- promised payments -------------------------------------------------------------------

def insert_promised_payment(conn: Connection, contract_id: int, amount: Decimal, until: date,
                            now: datetime) -> int:
    return conn.execute(insert(promised_payment).values(
        contract_id=contract_id, amount=amount, until=until, created_at=now)
    ).inserted_primary_key[0]


def last_promised_payment(conn: Connection, contract_id: int):
    return conn.execute(select(promised_payment).where(
        promised_payment.c.contract_id == contract_id)
        .order_by(promised_payment.c.created_at.desc(), promised_payment.c.id.desc())
        .limit(1)).first()


# -- reports -----------------------------------------------------------------------------

def balance_rows(conn: Connection, contract_id: int) -> list[dict]:
    """The contract's month rows, the latest first."""
    return [dict(r._mapping) for r in conn.execute(
        select(balance).where(balance.c.contract_id == contract_id)
        .order_by(balance.c.month.desc()))]


def charges_by_day(conn: Connection, contract_id: int, since: date,
                   until: date) -> dict[date, Decimal]:
    """The sum of charges per day (refunds count negative, as booked)."""
    return {row.date: row.total for row in conn.execute(
        select(charge.c.date, func.sum(charge.c.amount).label("total"))
        .where(charge.c.contract_id == contract_id, charge.c.date >= since,
               charge.c.date <= until)
        .group_by(charge.c.date))}
