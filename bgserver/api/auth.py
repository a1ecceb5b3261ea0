"""Signing in and out, and who the caller is."""

from __future__ import annotations

from typing import Any

from bgserver.api.routing import Api
from bgshared.api.models import LoginRequest
from bgshared.api.permissions import AUTHENTICATED, PUBLIC


def register(api: Api, s: Any) -> None:
    @api.route("POST", "/api/v1/auth/login", PUBLIC,
               "An operator's login and password for a session token", body=LoginRequest)
    async def login(call):
        session = await s.auth.login(call.body.login, call.body.password, call.address)
        return {"token": session.token, "expires_at": session.expires_at}

    @api.route("POST", "/api/v1/auth/logout", AUTHENTICATED, "End this session")
    async def logout(call):
        await s.auth.logout(call.caller)
        return {"status": "signed out"}

    @api.route("GET", "/api/v1/me", AUTHENTICATED, "The caller: login, kind, roles' permissions")
    async def me(call):
        caller = call.caller
        return {"id": caller.id, "kind": caller.kind, "login": caller.name,
                "permissions": sorted(caller.permissions),
                "groups": None if caller.groups is None else sorted(caller.groups)}
