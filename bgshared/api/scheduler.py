"""Request bodies of the scheduler's API: tasks and runs by hand."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from bgshared.api.models import Body


class SchedulerTaskCreate(Body):
    #: A task type's name, as ``GET /api/v1/scheduler/task-types`` lists them.
    type: str = Field(min_length=1, max_length=100)
    #: Default: the type's title.
    title: str | None = Field(None, min_length=1, max_length=200)
    #: The module instance, for a module's task types (``npay.charge``); else none.
    module_id: int | None = None
    #: Five-field cron in the billing time zone; left out: the type's default;
    #: null: run by hand only.
    cron: str | None = Field(None, max_length=100)
    params: dict[str, Any] = {}
    enabled: bool = True


class SchedulerTaskPatch(Body):
    """Only the fields given change."""
    type: str | None = Field(None, min_length=1, max_length=100)
    title: str | None = Field(None, min_length=1, max_length=200)
    module_id: int | None = None
    cron: str | None = Field(None, max_length=100)
    params: dict[str, Any] | None = None
    enabled: bool | None = None


class SchedulerRunCreate(Body):
    #: Over the task's own params for this run (``npay.charge``: ``{"from", "to"}``).
    params: dict[str, Any] = {}
