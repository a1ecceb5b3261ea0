"""Reading a contract's usage records (inet sessions, voice calls): by start time within
billing days, in pages, for callers who see the contract."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Table

from bgserver.billing import visibility
from bgserver.billing.access import Caller
from bgserver.billing.paging import page, page_size
from bgserver.storage import records as store


class RecordService:
    def __init__(self, database: Any, clock: Any):
        self.database = database
        self.clock = clock

    def _moment(self, day: date) -> datetime:
        return datetime.combine(day, time(), self.clock.zone)

    async def list(self, caller: Caller, contract_id: int, table: Table, columns: list[str],
                   since: date | None, until: date | None, cursor: int | None,
                   limit: int) -> dict[str, Any]:
        size = page_size(limit)
        start = None if since is None else self._moment(since)
        end = None if until is None else self._moment(until + timedelta(days=1))

        def read(conn):
            visibility.contract(conn, caller, contract_id)
            return store.started_between(conn, table, columns, contract_id, start, end,
                                         cursor, size + 1)

        return page(await self.database.run(f"list_{table.name}", read, readonly=True), size)
