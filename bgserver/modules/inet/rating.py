"""Pricing Internet access (design §3): by the byte and the second, after the month's
included download; exact until a day's usage, which is rounded once."""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from typing import Callable, Iterable

from bgserver.modules.inet.config import InetService, InetTariff

MB = 1_048_576


def service_of(tariff: InetTariff | None, service_id: int | None = None) -> InetService | None:
    """The tariff's price of the service (the first it lists when none is named)."""
    if tariff is None or not tariff.services:
        return None
    if service_id is None:
        return tariff.services[0]
    return next((s for s in tariff.services if s.service_id == service_id), None)


def exact_cost(price: InetService | None, billable_down: int, bytes_up: int,
               seconds: int) -> Fraction:
    if price is None:
        return Fraction(0)
    return (Fraction(billable_down) * Fraction(price.price_mb_down) / MB
            + Fraction(bytes_up) * Fraction(price.price_mb_up) / MB
            + Fraction(seconds) * Fraction(price.price_hour) / 3600)


def billable(counted_before: int, counted_after: int, included_mb: int) -> int:
    """Of the download between the month's two counts, what is past the included MB."""
    included = included_mb * MB
    return max(0, counted_after - included) - max(0, counted_before - included)


def month_costs(days: Iterable[tuple[date, int, int, int]],
                price_on: Callable[[date], InetService | None]) -> dict[date, Fraction]:
    """``(day, seconds, bytes_down, bytes_up)`` of one contract's service through a
    month -> each day's exact cost; the included download goes to the first days."""
    costs = {}
    counted = 0
    for day, seconds, down, up in sorted(days):
        price = price_on(day)
        after = counted + down
        costs[day] = exact_cost(price, billable(counted, after, price.included_mb
                                                if price else 0), up, seconds)
        counted = after
    return costs
