"""voice's page in the subscriber cabinet: calls, by day and in detail."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.engine import Connection

from bgserver.cabinet.reports import ReportColumn, UsageReport


def call_rows(conn: Connection, contract_id: int, since: date,
              until: date) -> list[dict[str, Any]] | None:
    """The contract's calls that began in those billing days. None: this build does not
    record calls yet (the loader's store of PBX calls is read here once it is)."""
    return None


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
