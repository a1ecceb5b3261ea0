"""Contract parameters: definitions, a contract's values and their history.

Visibility (a contract outside the caller's groups is 404) is checked by the service in
the same transaction as the read or change.
"""

from __future__ import annotations

from typing import Any

from bgserver.api.routing import Api, Reply
from bgshared.api.models import ParamDefinitionCreate, ParamValueSet

VALUE = "/api/v1/contracts/<int:contract_id>/params/<key>"


def register(api: Api, s: Any) -> None:
    @api.route("GET", "/api/v1/params", "contract.read", "Parameter definitions")
    async def list_definitions(call):
        return {"items": await s.params.list_definitions(), "next_cursor": None}

    @api.route("POST", "/api/v1/params", "directory.write",
               "Define a parameter (text, int, decimal, date, flag, list, email, phone, "
               "address)", body=ParamDefinitionCreate)
    async def create_definition(call):
        return Reply(await s.params.create_definition(call.caller, call.body), 201)

    @api.route("GET", "/api/v1/contracts/<int:contract_id>/params", "contract.read",
               "A contract's parameter values, typed")
    async def values(call):
        return await s.params.values(call.caller, call.params["contract_id"])

    @api.route("PUT", VALUE, "contract.write", "Set a contract's parameter value",
               body=ParamValueSet)
    async def set_value(call):
        return await s.params.set_value(call.caller, call.params["contract_id"],
                                        call.params["key"], call.body.value)

    @api.route("DELETE", VALUE, "contract.write", "Remove a contract's parameter value")
    async def remove_value(call):
        return await s.params.remove_value(call.caller, call.params["contract_id"],
                                           call.params["key"])

    @api.route("GET", VALUE + "/history", "contract.read",
               "Changes of a parameter of a contract, newest first (kept when the "
               "parameter's history flag is on)")
    async def history(call):
        return await s.params.history(call.caller, call.params["contract_id"],
                                      call.params["key"])
