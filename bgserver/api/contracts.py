"""Contracts and contract groups."""

from __future__ import annotations

from typing import Any

from bgserver.api.routing import Api, Reply
from bgshared.api.models import ContractCreate, ContractGroupCreate, ContractPatch, StatusChange


def register(api: Api, s: Any) -> None:
    @api.route("GET", "/api/v1/contracts", "contract.read", "Find contracts",
               query={"q": "matches the number (prefix) or the title",
                      "cursor": "next_cursor of the previous page", "limit": "at most 500"})
    async def search(call):
        return await s.contracts.search(call.caller, call.query("q"), call.query_int("cursor"),
                                        call.query_int("limit", 50))

    @api.route("POST", "/api/v1/contracts", "contract.write", "Create a contract",
               body=ContractCreate)
    async def create(call):
        return Reply(await s.contracts.create(call.caller, call.body), 201)

    @api.route("GET", "/api/v1/contracts/<int:contract_id>", "contract.read", "One contract")
    async def get(call):
        return await s.contracts.get(call.caller, call.params["contract_id"])

    @api.route("PATCH", "/api/v1/contracts/<int:contract_id>", "contract.write",
               "Change a contract", body=ContractPatch)
    async def update(call):
        return await s.contracts.update(call.caller, call.params["contract_id"], call.body)

    @api.route("POST", "/api/v1/contracts/<int:contract_id>/status", "contract.write",
               "Change the status from a day on (a later day schedules it)", body=StatusChange)
    async def change_status(call):
        result = await s.contracts.change_status(call.caller, call.params["contract_id"],
                                                 call.body)
        return Reply(result, 200 if result["applied"] else 202)

    @api.route("GET", "/api/v1/contracts/<int:contract_id>/statuses", "contract.read",
               "The status periods, scheduled ones included")
    async def statuses(call):
        items = await s.contracts.status_history(call.caller, call.params["contract_id"])
        return {"items": items, "next_cursor": None}

    @api.route("GET", "/api/v1/contract-groups", "contract.read", "Contract groups")
    async def list_groups(call):
        return {"items": await s.contracts.list_groups(), "next_cursor": None}

    @api.route("POST", "/api/v1/contract-groups", "directory.write", "Create a contract group",
               body=ContractGroupCreate)
    async def create_group(call):
        return Reply(await s.contracts.create_group(call.caller, call.body), 201)
