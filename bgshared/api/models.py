"""Request bodies of the API (pydantic): the wire contract shared by server and client.

Unknown fields are refused, so a typo in a field name is an error, not a silent no-op.
"""

from __future__ import annotations

import datetime as dt
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from bgshared.money import MoneyError, parse

LOGIN_PATTERN = r"^[A-Za-z0-9._@-]{1,64}$"
#: The shortest password that may be set (an operator's or a contract's cabinet one).
MIN_PASSWORD_LENGTH = 8

#: A password as typed: spaces around it are part of it, never stripped.
Password = Annotated[str, StringConstraints(strip_whitespace=False, max_length=1024)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _money(value: object) -> Decimal:
    try:
        return parse(value)
    except MoneyError as exc:
        raise ValueError(str(exc)) from None


class LoginRequest(Body):
    login: str = Field(min_length=1, max_length=64)
    password: Password = Field(min_length=1)


class UserCreate(Body):
    login: str = Field(pattern=LOGIN_PATTERN)
    name: str = Field("", max_length=200)
    password: Password = Field(min_length=MIN_PASSWORD_LENGTH)
    roles: list[str] = []
    #: Contract groups the operator may see; empty: all.
    groups: list[int] = []


class UserPatch(Body):
    name: str | None = Field(None, max_length=200)
    password: Password | None = Field(None, min_length=MIN_PASSWORD_LENGTH)
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
    cabinet_password: Password | None = Field(None, min_length=MIN_PASSWORD_LENGTH)

    _limit = field_validator("limit", mode="before")(_money)


class ContractPatch(Body):
    title: str | None = Field(None, min_length=1, max_length=200)
    person_type: Literal["person", "company"] | None = None
    mode: Literal["prepaid", "postpaid"] | None = None
    limit: Decimal | None = None
    groups: list[int] | None = None
    date_to: date | None = None
    comment: str | None = Field(None, max_length=4000)
    cabinet_password: Password | None = Field(None, min_length=MIN_PASSWORD_LENGTH)

    @field_validator("limit", mode="before")
    @classmethod
    def _limit(cls, value: object) -> Decimal | None:
        return None if value is None else _money(value)


# -- statuses and money ----------------------------------------------------------------

class StatusChange(Body):
    status: Literal["active", "blocked", "suspended", "closed"]
    comment: str = Field("", max_length=4000)
    #: The first day of the new status; today when absent, a later day schedules it.
    date_from: date | None = Field(None, alias="from")

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)


class MovementCreate(Body):
    """A payment or a charge."""
    amount: Decimal
    type_id: int | None = None
    #: The billing day it counts for; today when absent.
    date: dt.date | None = None
    comment: str = Field("", max_length=4000)
    external_id: str | None = Field(None, min_length=1, max_length=100)

    @field_validator("amount", mode="before")
    @classmethod
    def _positive(cls, value: object) -> Decimal:
        amount = _money(value)
        if amount <= 0:
            raise ValueError("must be more than zero")
        if amount >= Decimal("1e12"):
            raise ValueError("too large")
        return amount


class PaymentDelete(Body):
    reason: str = Field(min_length=1, max_length=4000)


class MovementTypeCreate(Body):
    title: str = Field(min_length=1, max_length=100)
    parent_id: int | None = None
    #: Charge types only: money given back.
    refund: bool = False


class TemporaryLimit(Body):
    limit: Decimal
    #: The last day it holds.
    until: date

    _limit = field_validator("limit", mode="before")(_money)


# -- parameters (appended) ---------------------------------------------------------------

from typing import Any, get_args

from pydantic import ValidationInfo

ParamType = Literal["text", "int", "decimal", "date", "flag", "list", "email", "phone",
                    "address"]
PARAM_TYPES: tuple[str, ...] = get_args(ParamType)


class ParamDefinitionCreate(Body):
    """A parameter contracts may carry; ``options`` only (and always) for a ``list``."""
    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    title: str = Field(min_length=1, max_length=200)
    type: ParamType
    options: list[str] | None = Field(None, max_length=500, validate_default=True)
    cabinet_read: bool = False
    cabinet_write: bool = False
    history: bool = False

    @field_validator("options")
    @classmethod
    def _options(cls, value: list[str] | None, info: ValidationInfo) -> list[str] | None:
        if info.data.get("type") != "list":
            if value is not None:
                raise ValueError("only a list parameter has options")
            return None
        if not value:
            raise ValueError("a list parameter needs at least one option")
        if any(not 1 <= len(v) <= 200 for v in value):
            raise ValueError("each option must be 1 to 200 characters")
        if len(set(value)) != len(value):
            raise ValueError("options must be unique")
        return value


class ParamValueSet(Body):
    """The value of one parameter, in the JSON form of its type (checked by the server)."""
    value: Any
