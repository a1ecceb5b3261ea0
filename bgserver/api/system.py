"""Health and the API's own description."""

from __future__ import annotations

from typing import Any

from bgserver.api.openapi import openapi
from bgserver.api.routing import Api, Reply
from bgshared.api.permissions import AUTHENTICATED, PUBLIC


def register(api: Api, s: Any) -> None:
    @api.route("GET", "/health", PUBLIC, "Health of the server, its database and event bus")
    async def health(call):
        body: dict[str, Any] = {"status": "ok", "database": "ok", "events": s.bus.status()}
        try:
            await s.database.ping()
        except Exception as exc:  # any failure to reach the store means "not healthy"
            body.update(status="error", database=f"unavailable: {exc}")
            return Reply(body, 503)
        return body

    @api.route("GET", "/api/v1/openapi.json", AUTHENTICATED, "This API described (OpenAPI 3.1)")
    async def describe(call):
        return openapi(api.routes)
