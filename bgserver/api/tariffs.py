"""Tariff plans and contracts' tariff periods."""

from __future__ import annotations

from typing import Any

from bgserver.api.routing import Api, Reply
from bgshared.api.models import ContractTariffCreate, TariffCreate, TariffPatch

CONTRACT = "/api/v1/contracts/<int:contract_id>"


def register(api: Api, s: Any) -> None:
    @api.route("GET", "/api/v1/tariffs", "contract.read", "Tariff plans")
    async def list_tariffs(call):
        return {"items": await s.tariffs.list(), "next_cursor": None}

    @api.route("POST", "/api/v1/tariffs", "tariff.write",
               "Create a tariff plan: per module instance a config of its module type",
               body=TariffCreate)
    async def create_tariff(call):
        return Reply(await s.tariffs.create(call.caller, call.body), 201)

    @api.route("GET", "/api/v1/tariffs/<int:tariff_id>", "contract.read", "One tariff plan")
    async def get_tariff(call):
        return await s.tariffs.get(call.params["tariff_id"])

    @api.route("PATCH", "/api/v1/tariffs/<int:tariff_id>", "tariff.write",
               "Change a tariff plan", body=TariffPatch)
    async def update_tariff(call):
        return await s.tariffs.update(call.caller, call.params["tariff_id"], call.body)

    @api.route("GET", f"{CONTRACT}/tariffs", "contract.read", "The contract's tariff periods")
    async def contract_tariffs(call):
        items = await s.tariffs.periods(call.caller, call.params["contract_id"])
        return {"items": items, "next_cursor": None}

    @api.route("POST", f"{CONTRACT}/tariffs", "tariff.write",
               "Put the contract on a plan from a day (the previous period ends the day before)",
               body=ContractTariffCreate)
    async def assign_tariff(call):
        return Reply(await s.tariffs.assign(call.caller, call.params["contract_id"], call.body),
                     201)

    @api.route("DELETE", f"{CONTRACT}/tariffs/<int:period_id>", "tariff.write",
               "Drop a tariff period that has not begun")
    async def drop_tariff(call):
        await s.tariffs.drop(call.caller, call.params["contract_id"], call.params["period_id"])
        return Reply(None, 204)
