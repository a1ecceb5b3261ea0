"""Daily bar charts of a month, drawn on the server as SVG (the template draws what
:func:`month_bars` measures): nothing to run in the browser, readable without JavaScript."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

WIDTH, HEIGHT = 620, 180
LEFT, BOTTOM, TOP = 8, 20, 14


@dataclass(frozen=True)
class Bar:
    day: int
    x: float
    y: float
    width: float
    height: float
    value: Decimal
    #: The day's number is written under every fifth bar (and the first).
    labelled: bool


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    top: Decimal
    baseline: float
    empty: bool


def month_bars(month: date, values: dict[date, Decimal]) -> Chart:
    """One bar per day of ``month``; the tallest reaches the top. Negative days (refunds
    bigger than charges) are drawn as nothing."""
    days = calendar.monthrange(month.year, month.month)[1]
    top = max([v for v in values.values() if v > 0], default=Decimal(0))
    plot_height = HEIGHT - BOTTOM - TOP
    step = (WIDTH - LEFT) / days
    bars = []
    for day in range(1, days + 1):
        value = values.get(month.replace(day=day), Decimal(0))
        height = float(value / top) * plot_height if top > 0 and value > 0 else 0.0
        bars.append(Bar(day, round(LEFT + (day - 1) * step + step * 0.15, 2),
                        round(HEIGHT - BOTTOM - height, 2), round(step * 0.7, 2),
                        round(height, 2), value, day == 1 or day % 5 == 0))
    return Chart(WIDTH, HEIGHT, bars, top, HEIGHT - BOTTOM, top == 0)
