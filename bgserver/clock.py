"""The billing clock: the one source of "now", driven by the reactor's time.

Tests hand in ``twisted.internet.task.Clock`` and move time by days and months.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo


class BillingClock:
    def __init__(self, reactor, zone: ZoneInfo):
        self.reactor = reactor
        self.zone = zone

    def now(self) -> datetime:
        """The current moment, aware, in UTC (how times are stored)."""
        return datetime.fromtimestamp(self.reactor.seconds(), timezone.utc)

    def local_now(self) -> datetime:
        return self.now().astimezone(self.zone)

    def today(self) -> date:
        """The billing day: the date in the billing time zone."""
        return self.local_now().date()
