"""Usage reports that module types add to the cabinet (``ModuleType.cabinet_pages``):
Internet sessions, calls. A report names its columns and one function that reads the
contract's rows for a range of billing days; the cabinet draws the page (by day and in
detail, with totals), the CSV download and, where the report says so, the month's chart.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Callable
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection

#: A column's kind decides how it is shown and summed.
KINDS = ("datetime", "text", "seconds", "bytes", "money", "int")


@dataclass(frozen=True)
class ReportColumn:
    key: str
    #: {"ru": ..., "en": ...}
    title: dict[str, str]
    kind: str
    #: Summed in the totals and by day.
    total: bool = False


@dataclass(frozen=True)
class UsageReport:
    #: The page is ``/cabinet/<name>``, the download ``/cabinet/<name>.csv``.
    name: str
    title: dict[str, str]
    columns: tuple[ReportColumn, ...]
    #: ``rows(conn, contract_id, since, until, zone)``: the rows of those billing days
    #: (cut in ``zone``), oldest first.
    rows: Callable[[Connection, int, date, date, Any], list[dict[str, Any]]]
    #: The datetime column that puts a row on a day.
    day_column: str
    #: Columns whose daily sum is the month's chart on the overview (none: no chart).
    chart: tuple[str, ...] = ()
    chart_title: dict[str, str] | None = None
    #: The chart's unit: a daily sum is divided by this (bytes -> MB).
    chart_divisor: int = 1


def by_day(report: UsageReport, rows: list[dict[str, Any]],
           zone: ZoneInfo) -> list[dict[str, Any]]:
    """Rows summed per billing day: ``{"day", "count", <total columns>}``."""
    days: dict[date, dict[str, Any]] = {}
    totals = [c.key for c in report.columns if c.total]
    for row in rows:
        day = row[report.day_column].astimezone(zone).date()
        into = days.setdefault(day, {"day": day, "count": 0, **{k: 0 for k in totals}})
        into["count"] += 1
        for key in totals:
            into[key] += row[key] or 0
    return [days[d] for d in sorted(days)]


def totals(report: UsageReport, rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {c.key: sum((r[c.key] or 0 for r in rows), Decimal(0) if c.kind == "money" else 0)
            for c in report.columns if c.total}


def chart_values(report: UsageReport, rows: list[dict[str, Any]],
                 zone: ZoneInfo) -> dict[date, Decimal]:
    sums: dict[date, Decimal] = {}
    for row in rows:
        day = row[report.day_column].astimezone(zone).date()
        value = sum(Decimal(row[k] or 0) for k in report.chart) / report.chart_divisor
        sums[day] = sums.get(day, Decimal(0)) + value
    return sums


def _cell(value: Any, zone: ZoneInfo) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(zone).isoformat()
    text = str(value)
    # a spreadsheet must not take a cell for a formula
    if isinstance(value, str) and text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def to_csv(report: UsageReport, rows: list[dict[str, Any]], zone: ZoneInfo) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.key for c in report.columns])
    for row in rows:
        writer.writerow([_cell(row.get(c.key), zone) for c in report.columns])
    return out.getvalue().encode("utf-8")


@dataclass(frozen=True)
class OrderOffers:
    """Services a module type lets subscribers order themselves (rscm's one-time
    services): the page ``/cabinet/<name>`` lists them, and an order names one of them —
    anything else does not exist there."""
    name: str
    title: dict[str, str]
    #: ``offers(conn, contract_id, today)``: ``{"module_id", "service_id", "title",
    #: "unit", "price"}`` of each service the contract's tariff offers today.
    offers: Callable[[Connection, int, date], list[dict[str, Any]]]
    #: ``order(database, clock, caller, module_id, service_id, quantity)``: books it.
    order: Callable[..., Any]
