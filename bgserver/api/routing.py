"""One mechanism for every API route: declared permission, authentication, body parsing,
errors as the JSON error body.

A route is declared with :meth:`Api.route` and the permission it needs; a route cannot be
added without one (``PUBLIC`` is for health and login only, ``AUTHENTICATED`` for what any
signed-in caller may do). Order of checks: 401 (who are you) -> 403 (may you) -> 400/422
(is the request well formed) -> the handler.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Awaitable, Callable

from klein import Klein
from pydantic import BaseModel, ValidationError
from twisted.internet.defer import CancelledError, Deferred, ensureDeferred
from twisted.logger import Logger
from twisted.python.failure import Failure
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import IntegerConverter, Map, MapAdapter, RequestRedirect

from bgserver.api.clients import client_host
from bgserver.api.errors import ApiError, error_body
from bgserver.billing.access import Caller
from bgserver.billing.errors import BillingError, Invalid, field_errors
from bgserver.storage.database import DatabaseUnavailable
from bgshared import wire
from bgshared.api import errors as codes
from bgshared.api.permissions import AUTHENTICATED, PERMISSIONS, PUBLIC

log = Logger()

STATUS = {codes.BAD_REQUEST: 400, codes.VALIDATION_FAILED: 422, codes.UNAUTHENTICATED: 401,
          codes.FORBIDDEN: 403, codes.NOT_FOUND: 404, codes.CONFLICT: 409,
          codes.TOO_MANY_REQUESTS: 429}


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    permission: str
    summary: str
    body: type[BaseModel] | None
    handler: Callable[["Call"], Awaitable[Any]]
    #: Query parameters, for the docs: name -> description.
    query: dict[str, str] = field(default_factory=dict)


@dataclass
class Reply:
    """A response other than ``200`` with a JSON body."""
    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Stream:
    """A response written as it goes (server-sent events): after the status and headers,
    ``run(request)`` writes the body and returns when the response ends. A client that
    hangs up cancels it."""
    run: Callable[[Any], Awaitable[None]]
    content_type: str = "text/event-stream; charset=utf-8"


@dataclass
class Call:
    """One request as a handler sees it."""
    request: Any
    caller: Caller | None
    params: dict[str, Any]
    body: Any

    @property
    def address(self) -> str:
        """The client's address, behind trusted proxies the one they forwarded."""
        return client_host(self.request) or "unknown"

    def query(self, name: str) -> str | None:
        values = self.request.args.get(name.encode())
        return values[0].decode("utf-8", "replace") if values else None

    def query_int(self, name: str, default: int | None = None) -> int | None:
        raw = self.query(name)
        if raw is None or raw == "":
            return default
        try:
            return wire.whole_number(raw)
        except ValueError:
            raise Invalid(f"{name} must be a whole number up to {wire.MAX_INT}",
                          {name: raw[:100]}) from None

    def query_date(self, name: str) -> date | None:
        """A ``YYYY-MM-DD`` query parameter."""
        return parse_day(name, self.query(name))

    def query_moment(self, name: str, zone: Any) -> datetime | None:
        """An ISO 8601 date or time; without an offset, in ``zone``."""
        raw = self.query(name)
        if not raw:
            return None
        try:
            value = datetime.fromisoformat(raw)
            wire.day(value.date())
        except ValueError:
            raise Invalid(f"{name} must be an ISO 8601 date or time between "
                          f"{wire.FIRST_DAY} and {wire.LAST_DAY}", {name: raw[:100]}) from None
        return value if value.tzinfo else value.replace(tzinfo=zone)

    def header(self, name: str) -> str | None:
        value = self.request.getHeader(name.encode())  # bytes: decoded (or refused) here
        if value is None:
            return None
        try:
            return value.decode()
        except UnicodeDecodeError:
            raise ApiError(400, codes.BAD_REQUEST, f"the header {name} is not UTF-8") from None


def parse_day(name: str, raw: str | None, form: str = "YYYY-MM-DD") -> date | None:
    """A ``YYYY-MM-DD`` (or the first of a month, ``form`` ``YYYY-MM``) from a query or a
    path, within the days the billing deals in."""
    if not raw:
        return None
    try:
        return wire.day(date.fromisoformat(raw if form == "YYYY-MM-DD" else raw + "-01"))
    except ValueError:
        raise Invalid(f"{name} must be {form} between {wire.FIRST_DAY:%Y-%m} and "
                      f"{wire.LAST_DAY:%Y-%m}", {name: raw[:100]}) from None


class Id(IntegerConverter):
    """``<int:...>`` in a path: a number past :data:`wire.MAX_INT` matches no route (404)
    instead of reaching the database."""

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None,
                 max: int | None = wire.MAX_INT, signed: bool = False) -> None:
        super().__init__(map, fixed_digits, min, max, signed)


def _not_cancelled(request, work: Deferred) -> Deferred:
    """Klein cancels a request's work when its client hangs up. What a change asked for is
    done all the same (a payment is booked whether or not anyone reads the answer), so the
    work goes on to its end, and its access log line is written then."""
    answer: Deferred = Deferred()

    def settle(result):
        if not answer.called:
            (answer.errback if isinstance(result, Failure) else answer.callback)(result)
            return None
        done = getattr(request, "answered_after_hang_up", None)
        if done is not None:
            done()
        if isinstance(result, Failure) and not result.check(CancelledError):
            log.failure("error in the work of a request whose client hung up", result)
        return None

    work.addBoth(settle)
    return answer


def bearer_token(request) -> str | None:
    header = request.getHeader(b"authorization")
    if not header:
        return None
    scheme, _, token = header.decode("latin-1").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _json(request, status: int, body: bytes) -> bytes:
    request.setResponseCode(status)
    request.setHeader(b"content-type", b"application/json")
    request.setHeader(b"cache-control", b"no-store")
    return body


def _parse_body(request, model: type[BaseModel]) -> BaseModel:
    raw = request.content.read() if request.content is not None else b""
    try:
        data = wire.loads(raw) if raw.strip() else {}
    except wire.TooLarge as exc:
        raise ApiError(422, codes.VALIDATION_FAILED, "the request is not valid",
                       [{"field": "", "message": f"a number past {wire.MAX_INT}: {exc}"}]
                       ) from None
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, codes.BAD_REQUEST, "the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ApiError(400, codes.BAD_REQUEST, "the body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiError(422, codes.VALIDATION_FAILED, "the request is not valid",
                       field_errors(exc)) from None


class RememberedMatches(MapAdapter):
    """Werkzeug's matcher walks the rules for every request: about a tenth of a simple
    request's time. Clients ask for the same paths again and again, so a path's match is
    remembered (only matches: misses and redirects go the whole way each time)."""

    def match(self, path_info=None, method=None, return_rule=False, query_args=None,
              websocket=None):
        if path_info is not None or method is not None or not return_rule \
                or query_args is not None or websocket is not None:
            return super().match(path_info, method, return_rule, query_args, websocket)
        key = (self.default_method, self.path_info)
        remembered = self.map.matches
        found = remembered.get(key)
        if found is None:
            found = super().match(return_rule=True)
            remembered[key] = found
            if len(remembered) > self.map.remember:
                remembered.pop(next(iter(remembered)))
        return found


class RememberingMap(Map):
    #: How many paths' matches are remembered; the oldest go first.
    remember = 10_000

    def __init__(self) -> None:
        # no redirect of ``//x`` to the merged path: werkzeug would build its address from
        # the client's Host header, and ``//evil.example/`` is another host to a browser
        super().__init__(merge_slashes=False)
        self.converters["int"] = Id
        self.matches: dict[tuple[str, str], tuple[Any, dict[str, Any]]] = {}

    def bind(self, server_name, script_name=None, subdomain=None, url_scheme="http",
             default_method="GET", path_info=None, query_args=None):
        # no host or subdomain matching here: the server name plays no part in a match
        if subdomain is None:
            subdomain = self.default_subdomain
        return RememberedMatches(
            self, server_name, "/" if script_name is None else script_name, subdomain,
            url_scheme, "/" if path_info is None else path_info, default_method, query_args)

    def add(self, rulefactory) -> None:
        self.matches.clear()
        super().add(rulefactory)


class _Klein(Klein):
    def __init__(self) -> None:
        super().__init__()
        self._url_map = RememberingMap()


class Api:
    """The Klein application: every route here went through :meth:`route`."""

    def __init__(self, authenticate: Callable[[str | None, str | None], Awaitable[Caller]]):
        self.app = _Klein()
        self.routes: list[Route] = []
        self._authenticate = authenticate
        self.app.handle_errors(NotFound, RequestRedirect)(self._not_found)
        self.app.handle_errors(MethodNotAllowed)(self._method_not_allowed)

    def route(self, method: str, path: str, permission: str, summary: str,
              body: type[BaseModel] | None = None, query: dict[str, str] | None = None):
        """Declare a route: ``permission`` is a name from ``bgshared.api.permissions``."""
        if permission not in PERMISSIONS and permission not in (AUTHENTICATED, PUBLIC):
            raise ValueError(f"{method} {path}: unknown permission {permission!r}")

        def register(handler):
            route = Route(method, path, permission, summary, body, handler, query or {})
            self.routes.append(route)

            def endpoint(request, **params):
                work = ensureDeferred(self._serve(route, request, params))
                if route.method == "GET":
                    return work  # a read (or a stream) ends when its client goes
                return _not_cancelled(request, work)

            self.app.route(path, methods=[method], endpoint=f"{method} {path}")(endpoint)
            return handler
        return register

    async def _serve(self, route: Route, request, params: dict[str, Any]) -> bytes:
        try:
            caller = None
            if route.permission != PUBLIC:
                caller = await self._authenticate(bearer_token(request),
                                                  client_host(request))
                if route.permission != AUTHENTICATED and not caller.can(route.permission):
                    raise ApiError(403, codes.FORBIDDEN, f"needs the permission "
                                   f"{route.permission}", {"permission": route.permission})
            body = _parse_body(request, route.body) if route.body else None
            result = await route.handler(Call(request, caller, params, body))
        except ApiError as error:
            return self._error(request, error.status, error.code, error.message,
                               error.details)
        except BillingError as error:
            status = STATUS.get(error.code, 400)
            if status == 401:
                request.setHeader(b"www-authenticate", b"Bearer")
            if status == 429:
                request.setHeader(b"retry-after", str(error.details["retry_after"]).encode())
            return self._error(request, status, error.code, error.message, error.details)
        except DatabaseUnavailable as error:
            return self._error(request, 503, codes.UNAVAILABLE, error.answer)
        except CancelledError:
            raise
        except Exception:
            log.failure("unhandled error in {method} {path}", method=route.method,
                        path=route.path)
            return self._error(request, 500, codes.INTERNAL, "internal error")
        if isinstance(result, Stream):
            return await self._stream(route, request, result)
        if isinstance(result, Reply):
            for name, value in result.headers.items():
                request.setHeader(name.encode(), value.encode())
            if result.status == 204:  # done, nothing to say
                request.setResponseCode(204)
                return b""
            return _json(request, result.status, wire.encode(result.body))
        return _json(request, 200, wire.encode(result))

    @staticmethod
    async def _stream(route: Route, request, stream: Stream) -> bytes:
        request.setResponseCode(200)
        request.setHeader(b"content-type", stream.content_type.encode())
        request.setHeader(b"cache-control", b"no-store")
        request.setHeader(b"x-accel-buffering", b"no")  # a proxy in front must not hold it
        try:
            await stream.run(request)
        except CancelledError:
            raise
        except Exception:  # the headers are out: all that is left is to end the response
            log.failure("stream {method} {path} failed", method=route.method, path=route.path)
        return b""

    @staticmethod
    def _error(request, status: int, code: str, message: str, details: Any = None) -> bytes:
        return _json(request, status, error_body(code, message, details))

    def _not_found(self, request, failure):
        return self._error(request, 404, codes.NOT_FOUND, "no such resource")

    def _method_not_allowed(self, request, failure):
        return self._error(request, 405, codes.METHOD_NOT_ALLOWED, "method not allowed")

    def resource(self):
        return self.app.resource()
