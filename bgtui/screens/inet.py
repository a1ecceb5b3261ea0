"""inet, Internet access: the contract card's sessions tab (time, traffic, cost)."""

from __future__ import annotations

from typing import Any

from bgshared.api.views import InetSession
from bgtui.i18n import duration, megabytes, moment, money
from bgtui.screens.contract import ListPane
from bgtui.views import card_tab
from bgtui.widgets.paged_table import amount_cell


@card_tab("sessions", "tab.sessions", None, order=70)
class SessionsPane(ListPane):
    columns = [("col.start", 16), ("col.login", 14), ("col.duration", 9),
               ("col.down_mb", 10), ("col.up_mb", 10), ("col.cost", 10)]
    table_id = "sessions-table"

    async def fetch(self, cursor: str | None) -> Any:
        return await self.app.api(self.app.client.sessions, self.contract_id, cursor, 100)

    def row(self, session: InetSession) -> list[Any]:
        return [moment(session.start, self.app.zone), session.login,
                amount_cell(duration(session.seconds)),
                amount_cell(megabytes(session.bytes_down)),
                amount_cell(megabytes(session.bytes_up)), amount_cell(money(session.cost))]
