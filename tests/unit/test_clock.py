"""The billing clock: UTC for storing, the billing time zone for cutting days."""

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from twisted.internet.task import Clock

from bgserver.clock import BillingClock

MOSCOW = ZoneInfo("Europe/Moscow")


def clock_at(moment: datetime, zone: ZoneInfo = MOSCOW) -> BillingClock:
    reactor = Clock()
    reactor.advance(moment.timestamp())
    return BillingClock(reactor, zone)


def test_now_is_the_reactors_time_in_utc():
    moment = datetime(2024, 3, 31, 21, 30, 15, tzinfo=timezone.utc)
    clock = clock_at(moment)
    assert clock.now() == moment
    assert clock.now().tzinfo is timezone.utc
    clock.reactor.advance(86_400)
    assert clock.now() == moment + timedelta(days=1)


def test_local_now_is_the_same_moment_in_the_billing_zone():
    clock = clock_at(datetime(2024, 3, 31, 21, 30, tzinfo=timezone.utc))
    local = clock.local_now()
    assert local.tzinfo is MOSCOW
    assert (local.year, local.month, local.day, local.hour, local.minute) == (2024, 4, 1, 0, 30)
    assert local == clock.now()


@pytest.mark.parametrize("utc, billing_day", [
    # 21:00 UTC is midnight in Moscow (UTC+3): the last day of March ends there
    (datetime(2024, 3, 31, 20, 59, 59), date(2024, 3, 31)),
    (datetime(2024, 3, 31, 21, 0, 0), date(2024, 4, 1)),
    (datetime(2024, 12, 31, 21, 30), date(2025, 1, 1)),
    (datetime(2024, 2, 28, 21, 0), date(2024, 2, 29)),
])
def test_the_billing_day_is_cut_in_the_billing_time_zone(utc, billing_day):
    assert clock_at(utc.replace(tzinfo=timezone.utc)).today() == billing_day


def test_the_billing_day_follows_the_configured_zone_not_moscows():
    moment = datetime(2024, 1, 1, 3, 0, tzinfo=timezone.utc)
    assert clock_at(moment, ZoneInfo("America/New_York")).today() == date(2023, 12, 31)
    assert clock_at(moment, ZoneInfo("UTC")).today() == date(2024, 1, 1)
