"""inet's page in the subscriber cabinet: Internet sessions, by day and in detail."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy.engine import Connection

from bgserver.cabinet.reports import ReportColumn, UsageReport
from bgserver.modules.inet.tables import inet_session
from bgserver.storage.records import started_between


def session_rows(conn: Connection, contract_id: int, since: date, until: date,
                 zone: tzinfo) -> list[dict[str, Any]]:
    """The contract's sessions that began in those billing days."""
    return started_between(conn, inet_session, [c.key for c in SESSIONS.columns],
                           contract_id,
                           datetime.combine(since, time(), zone),
                           datetime.combine(until + timedelta(days=1), time(), zone))


SESSIONS = UsageReport(
    name="sessions",
    title={"ru": "Сессии", "en": "Sessions"},
    columns=(
        ReportColumn("start", {"ru": "Начало", "en": "Start"}, "datetime"),
        ReportColumn("end", {"ru": "Конец", "en": "End"}, "datetime"),
        ReportColumn("login", {"ru": "Логин", "en": "Login"}, "text"),
        ReportColumn("seconds", {"ru": "Время", "en": "Time"}, "seconds", total=True),
        ReportColumn("bytes_down", {"ru": "Принято, МБ", "en": "Down, MB"}, "bytes", total=True),
        ReportColumn("bytes_up", {"ru": "Передано, МБ", "en": "Up, MB"}, "bytes", total=True),
        ReportColumn("cost", {"ru": "Стоимость", "en": "Cost"}, "money", total=True),
    ),
    rows=session_rows,
    day_column="start",
    chart=("bytes_down", "bytes_up"),
    chart_title={"ru": "Трафик по дням, МБ", "en": "Traffic by day, MB"},
    chart_divisor=1_048_576,
)
