"""Cron expressions, read in the billing time zone."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from croniter import croniter

from bgserver.billing.errors import Invalid


def check(expression: str | None, field: str = "cron") -> str | None:
    """A five-field expression (minute hour day month weekday), tidied; Invalid naming
    ``field`` otherwise. None stays None: a task run by hand only."""
    if expression is None:
        return None
    tidy = " ".join(expression.split())
    problem = None
    if len(tidy.split(" ")) != 5:
        problem = "a cron expression has five fields: minute hour day month weekday"
    elif not croniter.is_valid(tidy):
        problem = f"{expression!r} is not a valid cron expression"
    if problem:
        raise Invalid(f"{field}: {problem}", [{"field": field, "message": problem}])
    return tidy


def fire_times(expression: str, after: datetime, until: datetime, zone: Any,
               limit: int) -> list[datetime]:
    """The fire times in (``after``, ``until``], oldest first, at most ``limit``; UTC."""
    times: list[datetime] = []
    cron = croniter(expression, after.astimezone(zone))
    while len(times) < limit:
        fire = cron.get_next(datetime).astimezone(timezone.utc)
        if fire > until:
            break
        times.append(fire)
    return times


def next_fire(expression: str, after: datetime, zone: Any) -> datetime:
    return croniter(expression, after.astimezone(zone)).get_next(datetime).astimezone(
        timezone.utc)
