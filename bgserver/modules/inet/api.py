"""inet's routes: a contract's sessions."""

from __future__ import annotations

from typing import Any

from bgserver.api.routing import Api
from bgserver.modules.inet.tables import inet_session

COLUMNS = ["module_id", "session_id", "login", "nas", "ip", "mac", "start", "end", "seconds",
           "bytes_down", "bytes_up", "cost", "service_id"]


def routes(api: Api, s: Any) -> None:
    @api.route("GET", "/api/v1/contracts/<int:contract_id>/sessions", "contract.read",
               "The contract's Internet sessions with time, traffic and cost; from/to: "
               "billing days of their start",
               query={"from": "YYYY-MM-DD", "to": "YYYY-MM-DD", "cursor": "next_cursor",
                      "limit": "at most 500"})
    async def list_sessions(call):
        return await s.records.list(call.caller, call.params["contract_id"], inet_session,
                                    COLUMNS, call.query_date("from"), call.query_date("to"),
                                    call.query_int("cursor"), call.query_int("limit", 100))
