"""Module types, module instances and their services."""

from __future__ import annotations

from typing import Any

from bgserver.api.routing import Api, Reply
from bgshared.api.models import ModuleCreate, ModulePatch, ServiceCreate, ServicePatch

MODULE = "/api/v1/modules/<int:module_id>"


def register(api: Api, s: Any) -> None:
    @api.route("GET", "/api/v1/module-types", "contract.read",
               "Module types, with the JSON Schemas of their tariff and instance configs")
    async def types(call):
        return {"items": s.modules.types(), "next_cursor": None}

    @api.route("GET", "/api/v1/modules", "contract.read", "Module instances")
    async def list_modules(call):
        return {"items": await s.modules.list(), "next_cursor": None}

    @api.route("POST", "/api/v1/modules", "module.admin", "Create a module instance",
               body=ModuleCreate)
    async def create_module(call):
        return Reply(await s.modules.create(call.caller, call.body), 201)

    @api.route("GET", MODULE, "contract.read", "One module instance")
    async def get_module(call):
        return await s.modules.get(call.params["module_id"])

    @api.route("PATCH", MODULE, "module.admin", "Rename, reconfigure, disable a module instance",
               body=ModulePatch)
    async def update_module(call):
        return await s.modules.update(call.caller, call.params["module_id"], call.body)

    @api.route("DELETE", MODULE, "module.admin",
               "Delete a module instance and its data (409 while tariffs or contracts use it)")
    async def delete_module(call):
        await s.modules.delete(call.caller, call.params["module_id"])
        return Reply(None, 204)

    @api.route("GET", f"{MODULE}/services", "contract.read", "The instance's services")
    async def list_services(call):
        return {"items": await s.modules.services(call.params["module_id"]), "next_cursor": None}

    @api.route("POST", f"{MODULE}/services", "module.admin", "Add a service",
               body=ServiceCreate)
    async def create_service(call):
        return Reply(await s.modules.create_service(call.caller, call.params["module_id"],
                                                    call.body), 201)

    @api.route("PATCH", f"{MODULE}/services/<int:service_id>", "module.admin",
               "Rename or disable a service", body=ServicePatch)
    async def update_service(call):
        return await s.modules.update_service(call.caller, call.params["module_id"],
                                              call.params["service_id"], call.body)
