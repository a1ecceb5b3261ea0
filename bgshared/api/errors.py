"""Error codes of the API's error body ``{"error": {"code", "message", "details"}}``.

One list for the server, the client and the docs.
"""

BAD_REQUEST = "bad_request"
VALIDATION_FAILED = "validation_failed"
UNAUTHENTICATED = "unauthenticated"
FORBIDDEN = "forbidden"
NOT_FOUND = "not_found"
METHOD_NOT_ALLOWED = "method_not_allowed"
CONFLICT = "conflict"
PAYLOAD_TOO_LARGE = "payload_too_large"
TOO_MANY_REQUESTS = "too_many_requests"
REQUEST_TIMEOUT = "request_timeout"
UNAVAILABLE = "unavailable"
INTERNAL = "internal"
