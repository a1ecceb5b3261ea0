"""Request bodies of the API (pydantic): the wire contract shared by server and client.

Unknown fields are refused, so a typo in a field name is an error, not a silent no-op.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field,
                      StringConstraints, field_validator)

from bgshared import wire
from bgshared.money import MoneyError, parse

LOGIN_PATTERN = r"^[A-Za-z0-9._@-]{1,64}$"
#: The shortest password that may be set (an operator's or a contract's cabinet one).
MIN_PASSWORD_LENGTH = 8

#: A password as typed: spaces around it are part of it, never stripped.
Password = Annotated[str, StringConstraints(strip_whitespace=False, max_length=1024)]


#: Every date in a request: within the days the billing deals in (``wire.day``).
Day = Annotated[date, AfterValidator(wire.day)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _money(value: object, places: int = 2) -> Decimal:
    try:
        return parse(value, places=places)
    except MoneyError as exc:
        raise ValueError(str(exc)) from None


def _not_negative(value: Decimal) -> Decimal:
    if value < 0:
        raise ValueError("must not be negative")
    return value


#: An amount of money in a config or a price list: a decimal string, kopecks at most.
Amount = Annotated[Decimal, BeforeValidator(_money), AfterValidator(_not_negative)]
def _rate(value: object) -> Decimal:
    """Up to six decimals, shown with no more than it needs (but kopecks at least)."""
    rate = _money(value, places=6)
    cents = rate.quantize(Decimal("0.01"))
    return cents if cents == rate else rate.normalize()


#: A price per unit (a megabyte, a minute): up to six decimals; charges are rounded.
Rate = Annotated[Decimal, BeforeValidator(_rate), AfterValidator(_not_negative)]


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
    date_from: Day | None = None
    date_to: Day | None = None
    comment: str = Field("", max_length=4000)
    cabinet_password: Password | None = Field(None, min_length=MIN_PASSWORD_LENGTH)

    _limit = field_validator("limit", mode="before")(_money)


class ContractPatch(Body):
    title: str | None = Field(None, min_length=1, max_length=200)
    person_type: Literal["person", "company"] | None = None
    mode: Literal["prepaid", "postpaid"] | None = None
    limit: Decimal | None = None
    groups: list[int] | None = None
    date_to: Day | None = None
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
    date_from: Day | None = Field(None, alias="from")

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)


class MovementCreate(Body):
    """A payment or a charge."""
    amount: Decimal
    type_id: int | None = None
    #: The billing day it counts for; today when absent.
    date: Day | None = None
    comment: str = Field("", max_length=4000)
    external_id: str | None = Field(None, min_length=1, max_length=100)

    @field_validator("amount", mode="before")
    @classmethod
    def _positive(cls, value: object) -> Decimal:
        amount = _money(value)
        if amount <= 0:
            raise ValueError("must be more than zero")
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
    until: Day

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


# -- module instances, services, tariff plans ---------------------------------------------

class ModuleCreate(Body):
    """A module instance: ``{"type": "inet", "title": "Internet, Moscow"}``."""
    type: str = Field(min_length=1, max_length=32)
    title: str = Field(min_length=1, max_length=200)
    #: The instance's settings, checked against its module type's model.
    config: dict = Field(default_factory=dict)


class ModulePatch(Body):
    title: str | None = Field(None, min_length=1, max_length=200)
    config: dict | None = None
    enabled: bool | None = None


class ServiceCreate(Body):
    title: str = Field(min_length=1, max_length=200)
    unit: str = Field("", max_length=32)


class ServicePatch(Body):
    title: str | None = Field(None, min_length=1, max_length=200)
    unit: str | None = Field(None, max_length=32)
    enabled: bool | None = None


class TariffCreate(Body):
    title: str = Field(min_length=1, max_length=200)
    cabinet_title: str = Field("", max_length=200)
    #: Contract groups whose subscribers may choose the plan in the cabinet.
    groups: list[int] = []
    #: Per module instance id, that module type's config.
    modules: dict[int, dict] = Field(default_factory=dict)


class TariffPatch(Body):
    title: str | None = Field(None, min_length=1, max_length=200)
    cabinet_title: str | None = Field(None, max_length=200)
    groups: list[int] | None = None
    modules: dict[int, dict] | None = None
    enabled: bool | None = None


class ContractTariffCreate(Body):
    """A contract goes on a plan from a day (closing the plan it was on the day before)."""
    tariff_id: int
    date_from: Day | None = Field(None, alias="from")
    date_to: Day | None = Field(None, alias="to")
    comment: str = Field("", max_length=4000)

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)


class OrderCreate(Body):
    """N units of a one-time service, priced from the contract's tariff on ``date``."""
    module_id: int
    service_id: int
    quantity: int = Field(1, ge=1, le=1_000_000)
    date: Day | None = None
    comment: str = Field("", max_length=4000)
    #: Refuse (409) an order the balance cannot carry above the limit, booking nothing.
    check_balance: bool = False


class OrderCancel(Body):
    reason: str = Field(min_length=1, max_length=4000)


class AccountCreate(Body):
    """A contract's login on a module instance: inet's RADIUS User-Name (with password,
    IP, MAC), voice's phone number. Held from ``from`` (default today) to ``to``."""
    module_id: int
    login: str = Field(min_length=1, max_length=64)
    password: str | None = Field(None, max_length=128)
    ip: str | None = Field(None, max_length=45)
    mac: str | None = Field(None, max_length=17)
    date_from: Day | None = Field(None, alias="from")
    date_to: Day | None = Field(None, alias="to")

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)


class AccountPatch(Body):
    """End a login (``to``), or change its password, IP, MAC."""
    password: str | None = Field(None, max_length=128)
    ip: str | None = Field(None, max_length=45)
    mac: str | None = Field(None, max_length=17)
    date_to: Day | None = Field(None, alias="to")

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)


class LoaderSourceCreate(Body):
    """A stream of usage files: they arrive in ``<loader.spool>/<name>/``."""
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    format: str = Field(min_length=1, max_length=32)
    module_id: int
    #: The zone of local times in the files; default: the billing time zone.
    time_zone: str | None = Field(None, max_length=64)
    enabled: bool = True


class LoaderSourcePatch(Body):
    time_zone: str | None = Field(None, max_length=64)
    enabled: bool | None = None
