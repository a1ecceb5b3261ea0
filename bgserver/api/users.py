"""Operators, roles and API keys."""

from __future__ import annotations

from typing import Any

from bgserver.api.routing import Api, Reply
from bgshared.api.models import ApiKeyCreate, RoleCreate, RolePatch, UserCreate, UserPatch


def register(api: Api, s: Any) -> None:
    @api.route("GET", "/api/v1/users", "user.admin", "Operators")
    async def list_users(call):
        return {"items": await s.users.list_users(), "next_cursor": None}

    @api.route("POST", "/api/v1/users", "user.admin", "Create an operator", body=UserCreate)
    async def create_user(call):
        return Reply(await s.users.create_user(call.caller, call.body), 201)

    @api.route("GET", "/api/v1/users/<int:operator_id>", "user.admin", "One operator")
    async def get_user(call):
        return await s.users.get_user(call.params["operator_id"])

    @api.route("PATCH", "/api/v1/users/<int:operator_id>", "user.admin",
               "Change an operator (disabling one closes its sessions)", body=UserPatch)
    async def update_user(call):
        return await s.users.update_user(call.caller, call.params["operator_id"], call.body)

    @api.route("GET", "/api/v1/roles", "user.admin", "Roles and their permissions")
    async def list_roles(call):
        return {"items": await s.users.list_roles(), "next_cursor": None}

    @api.route("POST", "/api/v1/roles", "user.admin", "Create a role", body=RoleCreate)
    async def create_role(call):
        return Reply(await s.users.create_role(call.caller, call.body), 201)

    @api.route("PATCH", "/api/v1/roles/<int:role_id>", "user.admin",
               "Set a role's permissions", body=RolePatch)
    async def update_role(call):
        return await s.users.update_role(call.caller, call.params["role_id"], call.body)

    @api.route("GET", "/api/v1/api-keys", "user.admin", "API keys (never the keys themselves)")
    async def list_api_keys(call):
        return {"items": await s.users.list_api_keys(), "next_cursor": None}

    @api.route("POST", "/api/v1/api-keys", "user.admin",
               "Create an API key for outside software; the key is shown once",
               body=ApiKeyCreate)
    async def create_api_key(call):
        return Reply(await s.users.create_api_key(call.caller, call.body), 201)

    @api.route("DELETE", "/api/v1/api-keys/<int:key_id>", "user.admin", "Revoke an API key")
    async def revoke_api_key(call):
        return await s.users.revoke_api_key(call.caller, call.params["key_id"])
