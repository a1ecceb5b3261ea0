"""voice's page in the subscriber cabinet: calls, by day and in detail."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy.engine import Connection

from bgserver.cabinet.reports import ReportColumn, UsageReport
from bgserver.modules.voice.tables import voice_call
from bgserver.storage.records import started_between


def call_rows(conn: Connection, contract_id: int, since: date, until: date,
              zone: tzinfo) -> list[dict[str, Any]]:
    """The contract's calls that began in those billing days."""
    return started_between(conn, voice_call, [c.key for c in CALLS.columns],
                           contract_id,
                           datetime.combine(since, time(), zone),
                           datetime.combine(until + timedelta(days=1), time(), zone))


CALLS = UsageReport(
    name="calls",
    title={"ru": "Звонки", "en": "Calls"},
    columns=(
        ReportColumn("start", {"ru": "Дата", "en": "Date"}, "datetime"),
        ReportColumn("src", {"ru": "С номера", "en": "From"}, "text"),
        ReportColumn("dst", {"ru": "Номер", "en": "Number"}, "text"),
        ReportColumn("billsec", {"ru": "Длительность", "en": "Duration"}, "seconds",
                     total=True),
        ReportColumn("billed_seconds", {"ru": "Тарифицировано, с", "en": "Billed, s"}, "int",
                     total=True),
        ReportColumn("cost", {"ru": "Стоимость", "en": "Cost"}, "money", total=True),
    ),
    rows=call_rows,
    day_column="start",
)
