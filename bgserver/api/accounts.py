"""A contract's accounts on module instances: inet logins, voice numbers."""

from __future__ import annotations

from typing import Any

from bgserver.api.routing import Api, Reply
from bgshared.api.models import AccountCreate, AccountPatch

ACCOUNTS = "/api/v1/contracts/<int:contract_id>/accounts"


def register(api: Api, s: Any) -> None:
    @api.route("GET", ACCOUNTS, "contract.read",
               "The contract's logins and numbers on module instances, ended ones too")
    async def list_accounts(call):
        return await s.accounts.list(call.caller, call.params["contract_id"])

    @api.route("POST", ACCOUNTS, "contract.write",
               "Give the contract a login (inet: RADIUS User-Name, password, IP, MAC) or a "
               "phone number (voice) from a day; 409 while another contract holds it",
               body=AccountCreate)
    async def create_account(call):
        return Reply(await s.accounts.create(call.caller, call.params["contract_id"],
                                             call.body), 201)

    @api.route("PATCH", f"{ACCOUNTS}/<int:module_id>/<int:account_id>", "contract.write",
               "End an account (to) or change its password, IP, MAC", body=AccountPatch)
    async def update_account(call):
        return await s.accounts.update(call.caller, call.params["contract_id"],
                                       call.params["module_id"], call.params["account_id"],
                                       call.body)
