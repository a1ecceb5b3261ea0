"""voice, telephony: the contract card's calls tab (who called whom, billed seconds,
cost)."""

from __future__ import annotations

from typing import Any

from bgshared.api.views import VoiceCall
from bgtui.i18n import duration, moment, money
from bgtui.screens.contract import ListPane
from bgtui.views import card_tab
from bgtui.widgets.paged_table import amount_cell


@card_tab("calls", "tab.calls", None, order=80)
class CallsPane(ListPane):
    columns = [("col.start", 16), ("col.src", 12), ("col.dst", 13), ("col.disposition", 10),
               ("col.billsec", 8), ("col.billed", 8), ("col.cost", 9)]
    table_id = "calls-table"

    async def fetch(self, cursor: str | None) -> Any:
        return await self.app.api(self.app.client.calls, self.contract_id, cursor, 100)

    def row(self, call: VoiceCall) -> list[Any]:
        return [moment(call.start, self.app.zone), call.src, call.dst, call.disposition,
                amount_cell(duration(call.billsec)),
                amount_cell(duration(call.billed_seconds)), amount_cell(money(call.cost))]
