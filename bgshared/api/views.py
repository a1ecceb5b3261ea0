"""Response bodies of the API (pydantic), as the client reads them.

Unknown fields are kept and ignored, so a server that answers more than a client knows
(a newer version, a module's additions) never breaks it. Money is ``Decimal``, read from
its decimal string; times are aware datetimes.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class View(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Page(View, Generic[T]):
    """A list answer: ``{"items": [...], "next_cursor": ...}``; ``None`` means the last page."""
    items: list[T]
    next_cursor: str | None = None

    def __init__(self, **data: Any):
        cursor = data.get("next_cursor")
        if cursor is not None and not isinstance(cursor, str):
            data["next_cursor"] = str(cursor)  # some lists send their cursor as a number
        super().__init__(**data)


class Session(View):
    token: str
    expires_at: dt.datetime


class Me(View):
    id: int | None = None
    kind: str = "operator"
    login: str
    permissions: list[str] = []
    #: Contract groups the caller may see; None: all.
    groups: list[int] | None = None


class TemporaryLimitView(View):
    limit: Decimal
    until: dt.date


class Contract(View):
    id: int
    number: str
    title: str
    person_type: str = "person"
    mode: str = "prepaid"
    limit: Decimal
    balance: Decimal
    status: str
    #: Why the contract is blocked (``balance``, ``operator``), where the server says.
    status_reason: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    comment: str = ""
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    temporary_limit: TemporaryLimitView | None = None
    groups: list[int] = []
    params: dict[str, Any] = {}


class ContractGroup(View):
    id: int
    title: str


class Movement(View):
    """A payment or a charge."""
    id: int
    contract_id: int
    amount: Decimal
    type_id: int | None = None
    date: dt.date
    comment: str = ""
    created_at: dt.datetime | None = None
    actor_type: str | None = None
    actor_name: str | None = None
    external_id: str | None = None
    deleted_at: dt.datetime | None = None
    deleted_by_actor_name: str | None = None
    delete_reason: str | None = None


class MovementType(View):
    id: int
    parent_id: int | None = None
    title: str
    is_default: bool = False
    refund: bool = False


class Balance(View):
    month: str
    incoming: Decimal
    payments: Decimal
    charges: Decimal
    usage: Decimal
    outgoing: Decimal


class StatusPeriod(View):
    id: int
    status: str
    reason: str | None = None
    date_from: dt.date
    date_to: dt.date | None = None
    comment: str = ""
    applied: bool = True
    created_at: dt.datetime | None = None
    actor_name: str | None = None


class StatusChanged(View):
    id: int
    status: str
    reason: str | None = None
    date_from: dt.date = Field(alias="from")
    applied: bool


class ParamDefinition(View):
    id: int
    key: str
    title: str
    type: str
    options: list[str] | None = None
    cabinet_read: bool = False
    cabinet_write: bool = False
    history: bool = False


class ParamValue(View):
    key: str
    title: str
    type: str
    value: Any = None
    updated_at: dt.datetime | None = None


class AuditEntry(View):
    id: int
    at: dt.datetime
    actor_type: str | None = None
    actor_name: str | None = None
    action: str
    object_type: str | None = None
    object_id: str | None = None
    contract_id: int | None = None
    before: Any = None
    after: Any = None


class Operator(View):
    id: int
    login: str
    name: str = ""
    status: str = "active"
    roles: list[str] = []
    groups: list[int] = []


class Role(View):
    id: int
    name: str
    builtin: bool = False
    permissions: list[str] = []


class ApiKey(View):
    id: int
    title: str
    roles: list[str] = []
    created_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None
    last_used_at: dt.datetime | None = None


class ApiKeyCreated(ApiKey):
    #: The key itself: in this answer only, never again.
    key: str


class Event(View):
    """One event of the bus as ``GET /api/v1/events`` streams it."""
    id: str
    type: str
    occurred_at: dt.datetime | None = None
    contract_id: int | None = None
    data: dict[str, Any] = {}

    def __init__(self, **data: Any):
        if data.get("id") is not None:
            data["id"] = str(data["id"])
        super().__init__(**data)


StatusName = Literal["active", "blocked", "suspended", "closed"]
STATUSES: tuple[str, ...] = ("active", "blocked", "suspended", "closed")
