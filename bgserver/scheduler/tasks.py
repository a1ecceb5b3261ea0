"""Scheduler task types. Modules register theirs (fees, limits, statuses...) here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Awaitable, Callable

from bgserver.events import outbox

LOGIN_ATTEMPTS_DAYS = 30


@dataclass(frozen=True)
class TaskContext:
    """What a task gets to work with."""
    database: Any
    clock: Any
    settings: Any


@dataclass(frozen=True)
class Task:
    name: str
    title: str
    #: A cron expression in the billing time zone.
    cron: str
    #: ``async run(context) -> dict`` — the dict is kept as the run's result.
    run: Callable[[TaskContext], Awaitable[dict[str, Any]]]


class TaskRegistry:
    def __init__(self) -> None:
        self._tasks: dict[str, Task] = {}

    def register(self, task: Task) -> None:
        if task.name in self._tasks:
            raise ValueError(f"task {task.name} is registered twice")
        self._tasks[task.name] = task

    def get(self, name: str) -> Task | None:
        return self._tasks.get(name)

    def __iter__(self):
        return iter(self._tasks.values())


async def prune_outbox(context: TaskContext) -> dict[str, Any]:
    """Published events are only history once every consumer had its chance."""
    before = context.clock.now() - timedelta(days=context.settings.events.retention_days)
    deleted = await context.database.run("outbox_prune", outbox.prune, before)
    return {"deleted": deleted}


async def apply_statuses(context: TaskContext) -> dict[str, Any]:
    """Status changes scheduled for today (or missed days) take effect."""
    from bgserver.billing import statuses  # noqa: PLC0415 - the kernel, loaded when run
    applied = await context.database.run("apply_statuses", statuses.apply_due,
                                         context.clock.today(), context.clock.now())
    return {"applied": applied}


async def expire_temporary_limits(context: TaskContext) -> dict[str, Any]:
    """Promised payments whose last day has passed: the contract's own limit again."""
    from bgserver.billing import ledger  # noqa: PLC0415
    expired = await context.database.run("expire_temporary_limits",
                                         ledger.expire_temporary_limits,
                                         context.clock.today(), context.clock.now())
    return {"expired": expired}


async def prune_login_attempts(context: TaskContext) -> dict[str, Any]:
    """Login attempts are kept a month: long enough to look into an attack."""
    from bgserver.storage import access  # noqa: PLC0415
    before = context.clock.now() - timedelta(days=LOGIN_ATTEMPTS_DAYS)
    deleted = await context.database.run("prune_login_attempts", access.prune_login_attempts,
                                         before)
    return {"deleted": deleted}


def builtin_tasks() -> TaskRegistry:
    registry = TaskRegistry()
    registry.register(Task("outbox.prune", "Prune published events", "30 3 * * *", prune_outbox))
    registry.register(Task("contracts.apply_statuses", "Apply scheduled status changes",
                           "1 0 * * *", apply_statuses))
    registry.register(Task("contracts.expire_temporary_limits", "End temporary limits",
                           "2 0 * * *", expire_temporary_limits))
    registry.register(Task("auth.prune_login_attempts", "Prune old login attempts",
                           "40 3 * * *", prune_login_attempts))
    return registry
