"""API errors: raised anywhere below a route, answered as the JSON error body."""

from __future__ import annotations

from typing import Any

from bgshared import wire


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: Any = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    def body(self) -> bytes:
        return error_body(self.code, self.message, self.details)


def error_body(code: str, message: str, details: Any = None) -> bytes:
    return wire.dumps({"error": {"code": code, "message": message, "details": details}}).encode()
