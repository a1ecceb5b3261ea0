"""The audit log."""

from __future__ import annotations

from typing import Any

from bgserver.api.routing import Api


def register(api: Api, s: Any) -> None:
    @api.route("GET", "/api/v1/audit", "audit.read", "Who changed what, newest first",
               query={"contract_id": "", "actor_type": "operator, api_key or system",
                      "actor_id": "", "action": "e.g. contract.update",
                      "from": "ISO 8601", "to": "ISO 8601", "cursor": "", "limit": ""})
    async def search(call):
        contract_id = call.query_int("contract_id")
        if contract_id is not None:
            await s.contracts.get(call.caller, contract_id)  # 404 outside the caller's groups
        return await s.audit.search(
            call.caller, contract_id=contract_id, actor_type=call.query("actor_type"),
            actor_id=call.query_int("actor_id"), action=call.query("action"),
            since=call.query_moment("from", s.clock.zone),
            until=call.query_moment("to", s.clock.zone), before_id=call.query_int("cursor"),
            limit=call.query_int("limit", 100))
