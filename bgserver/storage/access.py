"""Store of the access area: operators, roles, contract groups of operators, sessions,
API keys and login attempts. Plain functions of a connection, run by the Database."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Iterable, NamedTuple

from sqlalchemy import case, delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from bgserver.storage.database import savepoint

from bgserver.storage.schema import (api_key, api_key_role, auth_session, contract_group,
                                     login_attempt, number_sequence, operator,
                                     operator_contract_group, operator_role, role,
                                     role_permission)


def token_hash(token: str) -> str:
    """Tokens and keys are long random strings: SHA-256 is enough to keep them unreadable
    in the database (argon2 is for passwords, which people choose)."""
    return hashlib.sha256(token.encode()).hexdigest()


# -- roles -----------------------------------------------------------------------------

def roles_by_name(conn: Connection, names: Iterable[str]) -> dict[str, int]:
    names = list(names)
    if not names:
        return {}
    rows = conn.execute(select(role.c.name, role.c.id).where(role.c.name.in_(names))).all()
    return {r.name: r.id for r in rows}


def list_roles(conn: Connection) -> list[dict[str, Any]]:
    roles = conn.execute(select(role).order_by(role.c.id)).all()
    perms: dict[int, list[str]] = {}
    for role_id, permission in conn.execute(
            select(role_permission.c.role_id, role_permission.c.permission)
            .order_by(role_permission.c.permission)):
        perms.setdefault(role_id, []).append(permission)
    return [{"id": r.id, "name": r.name, "builtin": bool(r.builtin),
             "permissions": perms.get(r.id, [])} for r in roles]


def get_role(conn: Connection, role_id: int) -> dict[str, Any] | None:
    return next((r for r in list_roles(conn) if r["id"] == role_id), None)


def insert_role(conn: Connection, name: str, permissions: Iterable[str], now: datetime) -> int:
    role_id = conn.execute(insert(role).values(name=name, builtin=False, created_at=now)
                           ).inserted_primary_key[0]
    set_role_permissions(conn, role_id, permissions)
    return role_id


def set_role_permissions(conn: Connection, role_id: int, permissions: Iterable[str]) -> None:
    conn.execute(delete(role_permission).where(role_permission.c.role_id == role_id))
    rows = [{"role_id": role_id, "permission": p} for p in sorted(set(permissions))]
    if rows:
        conn.execute(insert(role_permission), rows)


def permissions_of_roles(conn: Connection, role_ids: list[int],
                         all_permissions: frozenset[str]) -> frozenset[str]:
    if not role_ids:
        return frozenset()
    if conn.execute(select(func.count()).select_from(role).where(
            role.c.id.in_(role_ids), role.c.builtin.is_(True))).scalar_one():
        return all_permissions
    return frozenset(conn.execute(select(role_permission.c.permission).where(
        role_permission.c.role_id.in_(role_ids))).scalars())


# -- operators -------------------------------------------------------------------------

def _operator_view(conn: Connection, row) -> dict[str, Any]:
    roles = conn.execute(select(role.c.name).join(operator_role).where(
        operator_role.c.operator_id == row.id).order_by(role.c.name)).scalars().all()
    groups = conn.execute(select(operator_contract_group.c.group_id).where(
        operator_contract_group.c.operator_id == row.id).order_by(
        operator_contract_group.c.group_id)).scalars().all()
    return {"id": row.id, "login": row.login, "name": row.name, "status": row.status,
            "roles": list(roles), "groups": list(groups), "created_at": row.created_at}


def get_operator(conn: Connection, operator_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(operator).where(operator.c.id == operator_id)).first()
    return _operator_view(conn, row) if row else None


def list_operators(conn: Connection) -> list[dict[str, Any]]:
    return [_operator_view(conn, row)
            for row in conn.execute(select(operator).order_by(operator.c.id)).all()]


def operator_id_by_login(conn: Connection, login: str) -> int | None:
    return conn.execute(select(operator.c.id).where(operator.c.login == login)).scalar()


def operator_credentials(conn: Connection, login: str):
    return conn.execute(select(operator.c.id, operator.c.password_hash, operator.c.status)
                        .where(operator.c.login == login)).first()


def insert_operator(conn: Connection, login: str, name: str, password_hash: str,
                    now: datetime) -> int:
    return conn.execute(insert(operator).values(
        login=login, name=name, password_hash=password_hash, status="active",
        created_at=now)).inserted_primary_key[0]


def update_operator(conn: Connection, operator_id: int, **values: Any) -> None:
    if values:
        conn.execute(update(operator).where(operator.c.id == operator_id).values(**values))


def set_operator_roles(conn: Connection, operator_id: int, role_ids: Iterable[int]) -> None:
    conn.execute(delete(operator_role).where(operator_role.c.operator_id == operator_id))
    rows = [{"operator_id": operator_id, "role_id": r} for r in sorted(set(role_ids))]
    if rows:
        conn.execute(insert(operator_role), rows)


def set_operator_groups(conn: Connection, operator_id: int, group_ids: Iterable[int]) -> None:
    conn.execute(delete(operator_contract_group).where(
        operator_contract_group.c.operator_id == operator_id))
    rows = [{"operator_id": operator_id, "group_id": g} for g in sorted(set(group_ids))]
    if rows:
        conn.execute(insert(operator_contract_group), rows)


def existing_groups(conn: Connection, group_ids: Iterable[int]) -> set[int]:
    ids = list(group_ids)
    if not ids:
        return set()
    return set(conn.execute(select(contract_group.c.id).where(
        contract_group.c.id.in_(ids))).scalars())


# -- sessions --------------------------------------------------------------------------

def insert_session(conn: Connection, token: str, operator_id: int, now: datetime,
                   expires_at: datetime, address: str | None) -> int:
    return conn.execute(insert(auth_session).values(
        token_hash=token_hash(token), operator_id=operator_id, created_at=now,
        expires_at=expires_at, last_seen_at=now, address=address)).inserted_primary_key[0]


def session_by_token(conn: Connection, token: str):
    return conn.execute(
        select(auth_session.c.id, auth_session.c.operator_id, auth_session.c.expires_at,
               auth_session.c.last_seen_at, auth_session.c.revoked_at, operator.c.login,
               operator.c.status)
        .join(operator, operator.c.id == auth_session.c.operator_id)
        .where(auth_session.c.token_hash == token_hash(token))).first()


def touch_session(conn: Connection, session_id: int, now: datetime) -> None:
    conn.execute(update(auth_session).where(auth_session.c.id == session_id)
                 .values(last_seen_at=now))


def revoke_session(conn: Connection, session_id: int, now: datetime) -> None:
    conn.execute(update(auth_session).where(auth_session.c.id == session_id,
                                            auth_session.c.revoked_at.is_(None))
                 .values(revoked_at=now))


def revoke_operator_sessions(conn: Connection, operator_id: int, now: datetime) -> int:
    return conn.execute(update(auth_session).where(auth_session.c.operator_id == operator_id,
                                                   auth_session.c.revoked_at.is_(None))
                        .values(revoked_at=now)).rowcount


def operator_role_ids(conn: Connection, operator_id: int) -> list[int]:
    return list(conn.execute(select(operator_role.c.role_id).where(
        operator_role.c.operator_id == operator_id)).scalars())


def operator_group_ids(conn: Connection, operator_id: int) -> frozenset[int] | None:
    groups = frozenset(conn.execute(select(operator_contract_group.c.group_id).where(
        operator_contract_group.c.operator_id == operator_id)).scalars())
    return groups or None


# -- API keys --------------------------------------------------------------------------

def insert_api_key(conn: Connection, title: str, key: str, created_by: int | None,
                   now: datetime) -> int:
    return conn.execute(insert(api_key).values(
        title=title, key_hash=token_hash(key), created_at=now, created_by=created_by)
    ).inserted_primary_key[0]


def set_api_key_roles(conn: Connection, key_id: int, role_ids: Iterable[int]) -> None:
    conn.execute(delete(api_key_role).where(api_key_role.c.api_key_id == key_id))
    rows = [{"api_key_id": key_id, "role_id": r} for r in sorted(set(role_ids))]
    if rows:
        conn.execute(insert(api_key_role), rows)


def api_key_by_key(conn: Connection, key: str):
    return conn.execute(select(api_key).where(api_key.c.key_hash == token_hash(key))).first()


def api_key_role_ids(conn: Connection, key_id: int) -> list[int]:
    return list(conn.execute(select(api_key_role.c.role_id).where(
        api_key_role.c.api_key_id == key_id)).scalars())


def touch_api_key(conn: Connection, key_id: int, now: datetime) -> None:
    conn.execute(update(api_key).where(api_key.c.id == key_id).values(last_used_at=now))


def _api_key_view(conn: Connection, row) -> dict[str, Any]:
    roles = conn.execute(select(role.c.name).join(api_key_role).where(
        api_key_role.c.api_key_id == row.id).order_by(role.c.name)).scalars().all()
    return {"id": row.id, "title": row.title, "roles": list(roles),
            "created_at": row.created_at, "created_by": row.created_by,
            "revoked_at": row.revoked_at, "last_used_at": row.last_used_at}


def list_api_keys(conn: Connection) -> list[dict[str, Any]]:
    return [_api_key_view(conn, row)
            for row in conn.execute(select(api_key).order_by(api_key.c.id)).all()]


def get_api_key(conn: Connection, key_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(api_key).where(api_key.c.id == key_id)).first()
    return _api_key_view(conn, row) if row else None


def revoke_api_key(conn: Connection, key_id: int, now: datetime) -> bool:
    return bool(conn.execute(update(api_key).where(api_key.c.id == key_id,
                                                   api_key.c.revoked_at.is_(None))
                             .values(revoked_at=now)).rowcount)


# -- login attempts --------------------------------------------------------------------

class LoginFailures(NamedTuple):
    """Failed (or still running) attempts in the window: of this login from this address,
    from this address for any login, and of this login from anywhere."""
    pair: int
    address: int
    login: int


def lock_login_attempts(conn: Connection, realm: str) -> None:
    """Attempts of a realm are counted and reserved one at a time, so that a burst of
    parallel attempts cannot all read the same count: the realm's named row in
    ``number_sequence`` is locked until the unit ends (SQLite's writers queue anyway)."""
    name = f"login_attempt.{realm}"
    row = select(number_sequence.c.value).where(number_sequence.c.name == name)
    if conn.execute(row.with_for_update()).first() is not None:
        return
    try:
        with savepoint(conn):
            conn.execute(insert(number_sequence).values(name=name, value=0))
    except IntegrityError:  # another unit made it a moment ago: wait for its lock
        conn.execute(row.with_for_update()).first()


def login_failures(conn: Connection, realm: str, login: str, address: str,
                   since: datetime) -> LoginFailures:
    """Attempts since ``since`` that did not succeed (a reserved one counts until it does)."""
    failed = (login_attempt.c.realm == realm) & (login_attempt.c.success.is_(False)) & (
        login_attempt.c.at >= since)
    login, address = login[:64], address[:64]
    by_login, by_pair = conn.execute(select(
        func.count(), func.coalesce(func.sum(case((login_attempt.c.address == address, 1),
                                                  else_=0)), 0))
        .where(failed, login_attempt.c.login == login)).one()
    by_address = conn.execute(select(func.count()).select_from(login_attempt).where(
        failed, login_attempt.c.address == address)).scalar_one()
    return LoginFailures(int(by_pair), by_address, by_login)


def reserve_login_attempt(conn: Connection, realm: str, login: str, address: str,
                          now: datetime) -> int:
    """An attempt counted as failed before the password is checked; :func:`login_attempt_succeeded`
    marks it when it turns out right."""
    return conn.execute(insert(login_attempt).values(
        realm=realm, login=login[:64], address=address[:64], at=now, success=False)
    ).inserted_primary_key[0]


def login_attempt_succeeded(conn: Connection, attempt_id: int) -> None:
    conn.execute(update(login_attempt).where(login_attempt.c.id == attempt_id)
                 .values(success=True))


def prune_login_attempts(conn: Connection, before: datetime) -> int:
    return conn.execute(delete(login_attempt).where(login_attempt.c.at < before)).rowcount
