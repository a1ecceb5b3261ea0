"""Scheduler task types: the code a task row names. The kernel's are here; a module type
brings its own (``ModuleType.task_types``), and ``services.py`` hands all of them to the
scheduler and to the API.

A *task type* (``npay.charge``) is code: what a run does, which params it takes, whether a
task of it works on a module instance. A *task* is a row (``scheduler_task``): a type with
its cron, params, module instance and on/off switch, changed over the API. A *run* is a row
too (``scheduler_run``): one execution of a task, queued by its cron or by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Awaitable, Callable, Iterable, Iterator

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bgserver.billing.access import system_caller
from bgserver.billing.errors import Conflict, Invalid
from bgserver.events import outbox

LOGIN_ATTEMPTS_DAYS = 30
#: A run stores its progress at most this often: each store is a unit of work of its own.
PROGRESS_SECONDS = 1.0
#: Who the kernel's tasks act as in the audit log.
SCHEDULER = system_caller("scheduler")


@dataclass(frozen=True)
class TaskContext:
    """What a task gets to work with."""
    database: Any
    clock: Any
    settings: Any


@dataclass
class TaskRun:
    """One run as its task type's code sees it."""
    id: int
    task_id: int
    type: str
    #: The module instance of the task (None for the kernel's types).
    module_id: int | None
    #: An instance of the type's params model (the task's params with the run's over
    #: them), or ``{}`` for a type without params.
    params: Any
    #: The cron time the run was queued for, aware, UTC (the time queued for a run by
    #: hand): a run caught up after downtime does the work of that time.
    scheduled_for: datetime
    #: ``store(done, total)``: a unit of work that keeps the progress on the run's row.
    _store: Callable[[int, int | None], Awaitable[None]] = field(repr=False)
    _clock: Any = field(repr=False)
    #: The latest progress reported, stored or not yet: (done, total).
    latest: tuple[int, int | None] | None = None
    _stored_at: datetime | None = field(default=None, repr=False)

    async def progress(self, done: int, total: int | None = None) -> None:
        """Report how far the run is; stored at most once a second (the last report is
        stored with the run's end)."""
        self.latest = (done, total)
        now = self._clock.now()
        if self._stored_at is None or now - self._stored_at >= timedelta(
                seconds=PROGRESS_SECONDS):
            self._stored_at = now
            await self._store(done, total)

    def day(self, zone: Any) -> date:
        """The billing day the run was scheduled for."""
        return self.scheduled_for.astimezone(zone).date()


@dataclass(frozen=True)
class TaskType:
    """A kind of task, registered by the kernel or by a module type.

    ``run(context, run)`` is awaited in the scheduler process; the dict it returns is kept
    as the run's result (JSON: Decimal, date and datetime are fine) and an exception makes
    the run ``failed`` with its message. It may be run again for the same ``scheduled_for``
    (a scheduler that died mid-run, a run by hand): it must be harmless to repeat.
    """
    #: ``<area>.<verb>``; a module's types start with the module type's name (``npay.charge``).
    name: str
    title: str
    run: Callable[[TaskContext, TaskRun], Awaitable[dict[str, Any]]]
    #: The cron of a new task of this type when none is given; None: by hand only.
    default_cron: str | None = None
    #: Checks a task's params and a run's params (extra keys should be refused:
    #: ``model_config = ConfigDict(extra="forbid")``); None: the type takes no params.
    params: type[BaseModel] | None = None
    #: None for the kernel's types; else the module type (``npay``) whose instance a task
    #: of this type must name in ``module_id``.
    module_type: str | None = None
    #: Whether the task made for it by default (``bgbilling init``) starts enabled.
    default_enabled: bool = True

    def check_params(self, params: dict[str, Any], prefix: str = "params") -> Any:
        """The params as the run gets them; Invalid naming each bad field."""
        if self.params is None:
            if params:
                raise Invalid(f"{self.name} takes no params", [
                    {"field": f"{prefix}.{name}", "message": "unknown field"}
                    for name in sorted(params)])
            return {}
        try:
            return self.params.model_validate(params)
        except ValidationError as exc:
            raise Invalid(f"the params of {self.name} are not valid", [
                {"field": ".".join([prefix, *(str(p) for p in e["loc"])]),
                 "message": e["msg"].removeprefix("Value error, ")}
                for e in exc.errors()]) from None

    def dump_params(self, params: Any) -> dict[str, Any]:
        """Validated params back to plain JSON values, as stored."""
        return params.model_dump(mode="json") if isinstance(params, BaseModel) else params


class TaskTypes:
    """The task types of this build, by name."""

    def __init__(self, types: Iterable[TaskType]):
        self._types: dict[str, TaskType] = {}
        for task_type in types:
            if task_type.name in self._types:
                raise ValueError(f"task type {task_type.name} is registered twice")
            self._types[task_type.name] = task_type

    def get(self, name: str) -> TaskType | None:
        return self._types.get(name)

    def __iter__(self) -> Iterator[TaskType]:
        return iter(self._types.values())

    def __contains__(self, name: object) -> bool:
        return name in self._types


# -- the kernel's task types ------------------------------------------------------------

async def prune_outbox(context: TaskContext, run: TaskRun) -> dict[str, Any]:
    """Published events are only history once every consumer had its chance."""
    before = context.clock.now() - timedelta(days=context.settings.events.retention_days)
    deleted = await context.database.run("outbox_prune", outbox.prune, before)
    return {"deleted": deleted}


async def apply_statuses(context: TaskContext, run: TaskRun) -> dict[str, Any]:
    """Status changes scheduled for today (or missed days) take effect."""
    from bgserver.billing import statuses  # noqa: PLC0415 - the kernel, loaded when run
    applied = await context.database.run("apply_statuses", statuses.apply_due,
                                         context.clock.today(), context.clock.now())
    return {"applied": applied}


async def restore_limits(context: TaskContext, run: TaskRun) -> dict[str, Any]:
    """Promised payments whose last day has passed: the contract's own limit again."""
    from bgserver.billing import ledger  # noqa: PLC0415
    expired = await context.database.run("expire_temporary_limits",
                                         ledger.expire_temporary_limits,
                                         context.clock.today(), context.clock.now())
    return {"expired": expired}


async def prune_login_attempts(context: TaskContext, run: TaskRun) -> dict[str, Any]:
    """Login attempts are kept a month: long enough to look into an attack."""
    from bgserver.storage import access  # noqa: PLC0415
    before = context.clock.now() - timedelta(days=LOGIN_ATTEMPTS_DAYS)
    deleted = await context.database.run("prune_login_attempts", access.prune_login_attempts,
                                         before)
    return {"deleted": deleted}


class PeriodCloseParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    #: From this day of a month on, the month before it is closed (28 at most: every
    #: month has it).
    day: int = Field(5, ge=1, le=28)


async def close_period(context: TaskContext, run: TaskRun) -> dict[str, Any]:
    """On the configured day (or the first run after it), close the month before."""
    from bgserver.billing.money import MoneyService  # noqa: PLC0415
    day = run.day(context.clock.zone)
    month = (day.replace(day=1) - timedelta(days=1)).replace(day=1)
    if day.day < run.params.day:
        return {"closed": None, "month": f"{month:%Y-%m}",
                "reason": f"closed from day {run.params.day} on"}
    try:
        await MoneyService(context.database, context.clock).close_period(SCHEDULER, month)
    except Conflict:
        return {"closed": None, "month": f"{month:%Y-%m}", "reason": "closed already"}
    return {"closed": f"{month:%Y-%m}", "month": f"{month:%Y-%m}"}


async def check_balances(context: TaskContext, run: TaskRun) -> dict[str, Any]:
    from bgserver.billing.balance_check import check_all  # noqa: PLC0415
    return await check_all(context.database, run.progress)


def kernel_task_types() -> list[TaskType]:
    return [
        TaskType("statuses.apply_due", "Apply scheduled status changes", apply_statuses,
                 "1 0 * * *"),
        TaskType("limits.restore", "End temporary limits", restore_limits, "2 0 * * *"),
        TaskType("periods.close", "Close the previous month", close_period, "0 3 * * *",
                 params=PeriodCloseParams, default_enabled=False),
        TaskType("balance.check", "Check balances against the ledger", check_balances,
                 "0 4 * * 0"),
        TaskType("outbox.prune", "Prune published events", prune_outbox, "30 3 * * *"),
        TaskType("auth.prune_login_attempts", "Prune old login attempts",
                 prune_login_attempts, "40 3 * * *"),
    ]
