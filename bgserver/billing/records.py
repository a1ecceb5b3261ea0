"""Reading a contract's usage records (inet sessions, voice calls): by start time within
billing days, in pages, for callers who see the contract."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Table, select

from bgserver.billing import visibility
from bgserver.billing.access import Caller
from bgserver.billing.paging import page, page_size


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
        query = select(*[table.c[c] for c in ["id", *columns]]).where(
            table.c.contract_id == contract_id)
        if since is not None:
            query = query.where(table.c.start >= self._moment(since))
        if until is not None:
            query = query.where(table.c.start < self._moment(until + timedelta(days=1)))
        if cursor is not None:
            query = query.where(table.c.id > cursor)
        query = query.order_by(table.c.id).limit(size + 1)

        def read(conn):
            visibility.contract(conn, caller, contract_id)
            return [dict(r._mapping) for r in conn.execute(query)]

        return page(await self.database.run(f"list_{table.name}", read, readonly=True), size)
