"""The bgserver HTTP application (Klein): routes parse and check, services do the work."""

from __future__ import annotations

import json
from typing import Any

from klein import Klein
from twisted.logger import Logger
from werkzeug.exceptions import MethodNotAllowed, NotFound

from bgserver.api.errors import ApiError, error_body
from bgserver.storage.database import Database, DatabaseUnavailable
from bgshared.api import errors as codes

log = Logger()


def json_response(request, body: Any, status: int = 200) -> bytes:
    request.setResponseCode(status)
    request.setHeader(b"content-type", b"application/json")
    request.setHeader(b"cache-control", b"no-store")
    return json.dumps(body, ensure_ascii=False).encode()


class BillingApi:
    """All HTTP routes; later areas add theirs as route modules on ``app``."""

    app = Klein()

    def __init__(self, database: Database, bus: Any):
        self.database = database
        self.bus = bus

    @app.route("/health", methods=["GET"])
    async def health(self, request):
        body: dict[str, Any] = {"status": "ok", "database": "ok", "events": self.bus.status()}
        try:
            await self.database.ping()
        except Exception as exc:  # any failure to reach the store means "not healthy"
            body.update(status="error", database=f"unavailable: {exc}")
            return json_response(request, body, 503)
        return json_response(request, body)

    @app.handle_errors(ApiError)
    def _api_error(self, request, failure):
        error = failure.value
        request.setResponseCode(error.status)
        request.setHeader(b"content-type", b"application/json")
        return error.body()

    @app.handle_errors(NotFound)
    def _not_found(self, request, failure):
        return self._error(request, 404, codes.NOT_FOUND, "no such resource")

    @app.handle_errors(MethodNotAllowed)
    def _method_not_allowed(self, request, failure):
        return self._error(request, 405, codes.METHOD_NOT_ALLOWED, "method not allowed")

    @app.handle_errors(DatabaseUnavailable)
    def _unavailable(self, request, failure):
        return self._error(request, 503, codes.UNAVAILABLE,
                           "the database is unavailable; nothing was changed, try again")

    @app.handle_errors(Exception)
    def _internal(self, request, failure):
        log.failure("unhandled error in {method} {path}", failure,
                    method=request.method, path=request.path)
        return self._error(request, 500, codes.INTERNAL, "internal error")

    @staticmethod
    def _error(request, status: int, code: str, message: str) -> bytes:
        request.setResponseCode(status)
        request.setHeader(b"content-type", b"application/json")
        return error_body(code, message)

    def resource(self):
        return self.app.resource()
