"""Response bodies of the API (pydantic), as the client reads them.

Unknown fields are kept and ignored, so a server that answers more than a client knows
(a newer version, a module's additions) never breaks it. Money is ``Decimal``, read from
its decimal string; times are aware datetimes.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Generic, Literal, TypeVar

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

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


class ModuleType(View):
    """A module type with the JSON Schemas of its tariff config and its instance config."""
    name: str
    title: str = ""
    tariff_config: dict[str, Any] = {}
    instance_config: dict[str, Any] = {}


class ModuleInstance(View):
    id: int
    type: str
    title: str
    config: dict[str, Any] = {}
    enabled: bool = True
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


class Service(View):
    id: int
    module_id: int
    title: str
    unit: str = ""
    enabled: bool = True
    created_at: dt.datetime | None = None


class Tariff(View):
    id: int
    title: str
    cabinet_title: str = ""
    enabled: bool = True
    groups: list[int] = []
    #: Per module instance id, the config of its module type.
    modules: dict[int, dict[str, Any]] = {}
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


class TariffPeriod(View):
    """A contract on a tariff plan from a day (to a day, or open)."""
    id: int
    tariff_id: int
    tariff_title: str = ""
    date_from: dt.date = Field(validation_alias=AliasChoices("date_from", "from"))
    date_to: dt.date | None = Field(None, validation_alias=AliasChoices("date_to", "to"))
    comment: str = ""
    contract_id: int | None = None
    created_at: dt.datetime | None = None
    actor_name: str | None = None


class Order(View):
    """N units of a one-time service (rscm), booked as a charge; cancelled with a refund."""
    id: int
    module_id: int
    contract_id: int
    service_id: int
    quantity: int
    price: Decimal
    amount: Decimal
    date: dt.date
    comment: str = ""
    created_at: dt.datetime | None = None
    actor_name: str | None = None
    cancelled_at: dt.datetime | None = None
    cancelled_by_actor_name: str | None = None
    cancel_reason: str | None = None
    #: The contract's balance after the order (in the answer to an order only).
    balance: Decimal | None = None


class Account(View):
    """A contract's login on a module instance, held over dated days: inet's RADIUS
    User-Name (whether it has a password, IP, MAC), voice's phone number (its digits)."""
    id: int
    module_id: int
    contract_id: int
    login: str
    has_password: bool = False
    ip: str | None = None
    mac: str | None = None
    date_from: dt.date
    date_to: dt.date | None = None
    created_at: dt.datetime | None = None

    @property
    def row_key(self) -> str:
        """Ids are per module type's table: one list keys a row by instance and id."""
        return f"{self.module_id}:{self.id}"


class InetSession(View):
    """An Internet session from RADIUS accounting; ``cost`` is its exact cost rounded for
    display (the day's roll-up is what the ledger books)."""
    id: int
    module_id: int
    session_id: str
    login: str
    nas: str | None = None
    ip: str | None = None
    mac: str | None = None
    start: dt.datetime
    end: dt.datetime | None = None
    seconds: int = 0
    bytes_down: int = 0
    bytes_up: int = 0
    cost: Decimal | None = None
    service_id: int | None = None


class VoiceCall(View):
    """A call from a PBX CDR, priced by the callee's longest matching prefix."""
    id: int
    module_id: int
    start: dt.datetime
    answer: dt.datetime | None = None
    end: dt.datetime | None = None
    src: str
    dst: str
    disposition: str
    duration: int = 0
    billsec: int = 0
    billed_seconds: int = 0
    prefix: str | None = None
    price_min: Decimal | None = None
    cost: Decimal | None = None
    service_id: int | None = None
    day: dt.date | None = None


class LoaderSource(View):
    """A stream of usage files of one format for one module instance."""
    id: int
    name: str
    format: str
    module_id: int
    time_zone: str
    enabled: bool = True
    #: Where its files arrive, on the loader's machine.
    spool: str = ""
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


class LoaderFile(View):
    """A file the loader took: its lines stored, duplicates skipped, quarantined."""
    id: int
    source_id: int
    source: str = ""
    name: str
    checksum: str
    size: int = 0
    state: str
    lines: int = 0
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    seconds: float | Decimal | None = None


class QuarantineRecord(View):
    """A line the loader could not store, kept with its file, line number and reason."""
    id: int
    source_id: int
    file_id: int
    line: int
    record: str = ""
    reason: str
    created_at: dt.datetime | None = None
    resolved_at: dt.datetime | None = None


class SchedulerTask(View):
    id: int
    type: str
    title: str = ""
    module_id: int | None = None
    #: Five-field cron in the billing time zone; None: run by hand only.
    cron: str | None = None
    params: dict[str, Any] = {}
    enabled: bool = True
    next_run_at: dt.datetime | None = None


class RunProgress(View):
    done: int = 0
    total: int | None = None


class SchedulerRun(View):
    id: int
    task_id: int
    type: str = ""
    #: ``queued``, ``running``, ``done`` or ``failed``.
    state: str
    params: dict[str, Any] = {}
    progress: RunProgress | None = None
    result: Any = None
    error: str | None = None
    attempts: int = 0
    scheduled_for: dt.datetime | None = None
    queued_at: dt.datetime | None = None
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed")


class RunQueued(View):
    run_id: int


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
