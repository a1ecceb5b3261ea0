"""voice's routes: a contract's calls."""

from __future__ import annotations

from typing import Any

from bgserver.api.routing import Api
from bgserver.modules.voice.tables import voice_call

COLUMNS = ["module_id", "start", "answer", "end", "src", "dst", "disposition", "duration",
           "billsec", "billed_seconds", "prefix", "price_min", "cost", "service_id", "day"]


def routes(api: Api, s: Any) -> None:
    @api.route("GET", "/api/v1/contracts/<int:contract_id>/calls", "contract.read",
               "The contract's calls with their billed seconds and cost; from/to: billing "
               "days of their start",
               query={"from": "YYYY-MM-DD", "to": "YYYY-MM-DD", "cursor": "next_cursor",
                      "limit": "at most 500"})
    async def list_calls(call):
        return await s.records.list(call.caller, call.params["contract_id"], voice_call,
                                    COLUMNS, call.query_date("from"), call.query_date("to"),
                                    call.query_int("cursor"), call.query_int("limit", 100))
