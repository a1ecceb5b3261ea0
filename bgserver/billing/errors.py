"""What the billing refuses, in its own words; the API turns each into its HTTP answer."""

from __future__ import annotations

from typing import Any

from bgshared.api import errors as codes


class BillingError(Exception):
    code = codes.BAD_REQUEST

    def __init__(self, message: str, details: Any = None):
        super().__init__(message)
        self.message = message
        self.details = details


class Invalid(BillingError):
    code = codes.VALIDATION_FAILED


class NotFound(BillingError):
    code = codes.NOT_FOUND


class Conflict(BillingError):
    code = codes.CONFLICT


class Unauthenticated(BillingError):
    code = codes.UNAUTHENTICATED


class Forbidden(BillingError):
    code = codes.FORBIDDEN


class TooManyAttempts(BillingError):
    code = codes.TOO_MANY_REQUESTS

    def __init__(self, message: str, retry_after: int):
        super().__init__(message, {"retry_after": retry_after})
        self.retry_after = retry_after


def field_errors(exc: Any, prefix: str = "") -> list[dict[str, str]]:
    """A pydantic ``ValidationError`` as the API's details: each wrong field by its dotted
    path (``modules.3.fees.0.amount``) and what is wrong with it."""
    return [{"field": ".".join([prefix, *map(str, e["loc"])] if prefix else map(str, e["loc"])),
             "message": e["msg"].removeprefix("Value error, ")} for e in exc.errors()]
