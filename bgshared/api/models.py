"""Request bodies of the API (pydantic): the wire contract shared by server and client.

Unknown fields are refused, so a typo in a field name is an error, not a silent no-op.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bgshared.money import MoneyError, parse

LOGIN_PATTERN = r"^[A-Za-z0-9._@-]{1,64}$"


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _money(value: object) -> Decimal:
    try:
        return parse(value)
    except MoneyError as exc:
        raise ValueError(str(exc)) from None


class LoginRequest(Body):
    login: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class UserCreate(Body):
    login: str = Field(pattern=LOGIN_PATTERN)
    name: str = Field("", max_length=200)
    password: str = Field(min_length=8, max_length=1024)
    roles: list[str] = []
    #: Contract groups the operator may see; empty: all.
    groups: list[int] = []


class UserPatch(Body):
    name: str | None = Field(None, max_length=200)
    password: str | None = Field(None, min_length=8, max_length=1024)
    status: Literal["active", "disabled"] | None = None
    roles: list[str] | None = None
    groups: list[int] | None = None


class RoleCreate(Body):
    name: str = Field(pattern=r"^[a-z0-9_.-]{1,64}$")
    permissions: list[str] = []


class RolePatch(Body):
    permissions: list[str]


class ApiKeyCreate(Body):
    title: str = Field(min_length=1, max_length=200)
    roles: list[str] = []


class ContractGroupCreate(Body):
    title: str = Field(min_length=1, max_length=100)


class ContractCreate(Body):
    title: str = Field(min_length=1, max_length=200)
    number: str | None = Field(None, min_length=1, max_length=32)
    person_type: Literal["person", "company"] = "person"
    mode: Literal["prepaid", "postpaid"] = "prepaid"
    limit: Decimal = Decimal("0.00")
    groups: list[int] = []
    date_from: date | None = None
    date_to: date | None = None
    comment: str = Field("", max_length=4000)
    cabinet_password: str | None = Field(None, min_length=6, max_length=1024)

    _limit = field_validator("limit", mode="before")(_money)


class ContractPatch(Body):
    title: str | None = Field(None, min_length=1, max_length=200)
    person_type: Literal["person", "company"] | None = None
    mode: Literal["prepaid", "postpaid"] | None = None
    limit: Decimal | None = None
    groups: list[int] | None = None
    date_to: date | None = None
    comment: str | None = Field(None, max_length=4000)
    cabinet_password: str | None = Field(None, min_length=6, max_length=1024)

    @field_validator("limit", mode="before")
    @classmethod
    def _limit(cls, value: object) -> Decimal | None:
        return None if value is None else _money(value)
