"""Operators: the people who work in the billing through bgtui and the API."""

from __future__ import annotations

import secrets
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from bgserver.storage.schema import operator

_hasher = PasswordHasher()  # argon2id with the library's current parameters


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def create_operator(conn: Connection, login: str, name: str, password: str,
                    now: datetime) -> int:
    return conn.execute(insert(operator).values(
        login=login, name=name, password_hash=hash_password(password), status="active",
        created_at=now)).inserted_primary_key[0]


def find_operator_id(conn: Connection, login: str) -> int | None:
    return conn.execute(select(operator.c.id).where(operator.c.login == login)).scalar()
