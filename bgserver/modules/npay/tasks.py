"""npay's scheduler task: ``npay.charge`` charges an instance's fees day by day."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bgserver.billing import statuses
from bgserver.modules.npay.charging import charge_days
from bgserver.scheduler.tasks import TaskContext, TaskRun, TaskType
from bgshared.api.models import Day


class ChargeParams(BaseModel):
    """A run charges the day it was scheduled for; ``from``/``to`` catch up past days."""
    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)
    date_from: Day | None = Field(None, alias="from")
    date_to: Day | None = Field(None, alias="to")


async def charge(context: TaskContext, run: TaskRun) -> dict[str, Any]:
    day = run.day(context.clock.zone)
    first, last = run.params.date_from or day, run.params.date_to or day
    # a status change due by then (a suspension, its end) decides that day's fees: it
    # counts whichever task the scheduler happens to run first after downtime
    await context.database.run("apply_statuses", statuses.apply_due,
                               min(last, context.clock.today()),
                               context.clock.now())
    return await charge_days(context, run.module_id, first, last, run.progress)


CHARGE = TaskType("npay.charge", "Charge periodic fees", charge, default_cron="10 0 * * *",
                  params=ChargeParams, module_type="npay")
