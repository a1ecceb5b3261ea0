"""The async API client of bgserver, on treq: used by bgtui, the tests and integrations.

Every public method returns a Deferred, so the same client serves Twisted code
(``await client.health()`` inside ``ensureDeferred``) and asyncio code running on Twisted's
asyncio reactor (``await client.health().asFuture(loop)``, as bgtui does).

Money never passes through float: JSON numbers with a fraction are read as ``Decimal`` and
``Decimal`` values are sent as decimal strings (``"123.45"``), as the API carries them.
"""

from __future__ import annotations

import functools
import json as jsonlib
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Awaitable, Callable, Collection, Mapping, TypeVar
from urllib.parse import quote

from pydantic import BaseModel, TypeAdapter, ValidationError
from treq.client import HTTPClient
from twisted.internet import defer, task
from twisted.internet.defer import Deferred, ensureDeferred
from twisted.internet.error import ConnectError, ConnectionLost, DNSLookupError
from twisted.internet.protocol import Protocol
from twisted.logger import Logger
from twisted.web.client import (Agent, HTTPConnectionPool, RequestTransmissionFailed,
                                ResponseFailed)

from twisted.web.iweb import IBodyProducer
from zope.interface import implementer

from bgshared.api import views as v

__all__ = ["ApiError", "BillingClient", "ClientError", "EventFollower", "ServerUnreachable",
           "decode_json", "encode_json"]

T = TypeVar("T")
_log = Logger()

#: Not a code the server sends: a 4xx/5xx answer without our JSON error body (a proxy's
#: HTML page, an empty 502), so callers still get one exception type with a code.
UNEXPECTED_RESPONSE = "unexpected_response"


class ClientError(Exception):
    """Anything that keeps a call from getting the server's answer."""


class ApiError(ClientError):
    """The server answered 4xx/5xx: its ``{"error": {"code", "message", "details"}}``."""

    def __init__(self, status: int, code: str, message: str, details: Any = None):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details


class ServerUnreachable(ClientError):
    """No answer at all (refused, timed out, connection lost): the server may be down, so
    the caller can say so instead of showing a traceback."""

    def __init__(self, url: str, reason: str):
        super().__init__(f"cannot reach {url}: {reason}")
        self.url = url
        self.reason = reason


def _to_wire(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:f}"  # money travels as a string: "123.45", never 1.2345E+2
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"cannot send {type(value).__name__} as JSON")


def encode_json(value: Any) -> bytes:
    """Request bodies: ``Decimal`` as decimal strings, dates ISO 8601."""
    return jsonlib.dumps(value, default=_to_wire, ensure_ascii=False).encode("utf-8")


def decode_json(data: bytes) -> Any:
    """Response bodies: fractions as ``Decimal``, so no amount is ever a float."""
    return jsonlib.loads(data, parse_float=Decimal)


@implementer(IBodyProducer)
class _BytesBody:
    """A request body written at once. treq's default producer is paced by the global
    reactor's cooperator, which is not the client's reactor where a process has several
    (bgtui inside a test process), and a body so small needs no pacing."""

    def __init__(self, data: bytes):
        self._data = data
        self.length = len(data)

    def startProducing(self, consumer: Any) -> Deferred:
        consumer.write(self._data)
        return defer.succeed(None)

    def pauseProducing(self) -> None:
        pass

    def resumeProducing(self) -> None:
        pass

    def stopProducing(self) -> None:
        pass


def _returns_deferred(fn: Callable[..., Awaitable[T]]) -> Callable[..., Deferred]:
    """Wrap a coroutine method so callers get a Deferred (see the module docstring)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Deferred:
        return ensureDeferred(fn(*args, **kwargs))

    return wrapper


class BillingClient:
    """One server, one optional bearer token, one pool of persistent connections.

    ``pool``: pass one to share connections between clients (then closing it is yours);
    otherwise the client makes its own and :meth:`close` closes it.
    """

    def __init__(self, base_url: str, token: str | None = None, reactor: Any = None,
                 pool: HTTPConnectionPool | None = None, timeout: float = 30.0):
        if reactor is None:
            # Late import: bgtui installs the asyncio reactor before it builds a client.
            from twisted.internet import reactor  # noqa: PLC0415
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self._reactor = reactor
        self._own_pool = pool is None
        if pool is None:
            pool = HTTPConnectionPool(reactor, persistent=True)
            pool.maxPersistentPerHost = 4
        self._pool = pool
        self._http = HTTPClient(Agent(reactor, pool=pool), data_to_body_producer=_BytesBody)

    def url(self, path: str) -> str:
        return self.base_url + "/" + path.lstrip("/")

    @_returns_deferred
    async def request(self, method: str, path: str, json: Any = None,
                      params: Mapping[str, Any] | None = None,
                      headers: Mapping[str, str] | None = None,
                      accept: Collection[int] = ()) -> tuple[int, Any]:
        """Send one request; answer ``(status, body)`` with the body decoded from JSON
        (``None`` when empty, text when not JSON).

        Raises :class:`ApiError` for a 4xx/5xx status not listed in ``accept`` and
        :class:`ServerUnreachable` when there is no answer.
        """
        all_headers = {"Accept": "application/json"}
        if self.token:
            all_headers["Authorization"] = f"Bearer {self.token}"
        body = None
        if json is not None:
            body = encode_json(json)
            all_headers["Content-Type"] = "application/json"
        all_headers.update(headers or {})
        exchange = Deferred.fromCoroutine(
            self._exchange(method.upper(), self.url(path), params, all_headers, body))
        # One limit for the whole exchange, body included; a caller's cancel still cancels.
        exchange.addTimeout(self.timeout, self._reactor)
        try:
            status, content_type, content = await exchange
        except _NO_ANSWER as exc:
            raise ServerUnreachable(self.base_url, _reason(exc)) from None
        decoded = _decode_body(status, content_type, content)
        if status >= 400 and status not in accept:
            raise _api_error(status, decoded)
        return status, decoded

    async def _exchange(self, method: str, url: str, params: Mapping[str, Any] | None,
                        headers: dict[str, str], body: bytes | None
                        ) -> tuple[int, bytes, bytes]:
        try:
            response = await self._http.request(
                method, url, params=dict(params) if params else None,
                headers={k: [v] for k, v in headers.items()}, data=body,
                reactor=self._reactor)
            content = await response.content()
        except (ResponseFailed, RequestTransmissionFailed) as exc:
            # The Agent reports a cancelled request as a failed one; keep it a cancel, so
            # a timeout reads as a timeout and a caller's cancel is not an outage.
            if any(reason.check(defer.CancelledError) for reason in exc.reasons):
                raise defer.CancelledError() from None
            raise
        content_type = (response.headers.getRawHeaders(b"content-type") or [b""])[0]
        return response.code, content_type, content

    @_returns_deferred
    async def health(self) -> dict[str, Any]:
        """``GET /health``; a 503 (database down) is an answer to show, not an error."""
        status, body = await self.request("GET", "/health", accept=(503,))
        if not isinstance(body, dict) or "status" not in body:
            raise _api_error(status, body)
        return body

    @_returns_deferred
    async def login(self, login: str, password: str) -> v.Session:
        """``POST /api/v1/auth/login``; keeps the session token for the following calls."""
        _, body = await self.request("POST", "/api/v1/auth/login",
                                     json={"login": login, "password": password})
        if not isinstance(body, dict) or not body.get("token"):
            raise ApiError(200, UNEXPECTED_RESPONSE, "the login answer carries no token", body)
        session = _read(v.Session, body)
        self.token = session.token
        return session

    @_returns_deferred
    async def me(self) -> v.Me:
        """``GET /api/v1/me``: who the token belongs to, with roles and permissions."""
        _, body = await self.request("GET", "/api/v1/me")
        return _read(v.Me, body)

    # -- typed calls: one per route, answering the response models of bgshared.api.views --

    async def _model(self, model: Any, method: str, path: str, **kwargs: Any) -> Any:
        _, body = await self.request(method, path, **kwargs)
        return _read(model, body)

    @staticmethod
    def _page_params(cursor: str | int | None, limit: int | None,
                     **more: Any) -> dict[str, str]:
        params = {k: str(val) for k, val in more.items() if val not in (None, "")}
        if cursor not in (None, ""):
            params["cursor"] = str(cursor)
        if limit is not None:
            params["limit"] = str(limit)
        return params

    @_returns_deferred
    async def logout(self) -> None:
        """``POST /api/v1/auth/logout``; forgets the token."""
        await self.request("POST", "/api/v1/auth/logout")
        self.token = None

    @_returns_deferred
    async def contracts(self, q: str = "", cursor: str | None = None,
                        limit: int | None = None) -> v.Page[v.Contract]:
        """``GET /api/v1/contracts?q=``: the server's word-start search, a page at a time."""
        return await self._model(v.Page[v.Contract], "GET", self.path("contracts"),
                                 params=self._page_params(cursor, limit, q=q))

    @_returns_deferred
    async def contract(self, contract_id: int) -> v.Contract:
        return await self._model(v.Contract, "GET", self.path("contracts", contract_id))

    @_returns_deferred
    async def create_contract(self, body: Mapping[str, Any]) -> v.Contract:
        """``POST /api/v1/contracts`` with a ``ContractCreate`` body."""
        return await self._model(v.Contract, "POST", self.path("contracts"), json=dict(body))

    @_returns_deferred
    async def update_contract(self, contract_id: int, body: Mapping[str, Any]) -> v.Contract:
        return await self._model(v.Contract, "PATCH", self.path("contracts", contract_id),
                                 json=dict(body))

    @_returns_deferred
    async def change_status(self, contract_id: int, status: str, comment: str = "",
                            date_from: date | None = None) -> v.StatusChanged:
        """``POST .../status``: from today, or scheduled from a later day."""
        body: dict[str, Any] = {"status": status, "comment": comment}
        if date_from is not None:
            body["from"] = date_from
        return await self._model(v.StatusChanged, "POST",
                                 self.path("contracts", contract_id, "status"), json=body)

    @_returns_deferred
    async def statuses(self, contract_id: int) -> v.Page[v.StatusPeriod]:
        return await self._model(v.Page[v.StatusPeriod], "GET",
                                 self.path("contracts", contract_id, "statuses"))

    @_returns_deferred
    async def contract_groups(self) -> v.Page[v.ContractGroup]:
        return await self._model(v.Page[v.ContractGroup], "GET", self.path("contract-groups"))

    @_returns_deferred
    async def create_contract_group(self, title: str) -> v.ContractGroup:
        return await self._model(v.ContractGroup, "POST", self.path("contract-groups"),
                                 json={"title": title})

    @_returns_deferred
    async def movements(self, kind: str, contract_id: int, cursor: str | None = None,
                        limit: int | None = None, deleted: bool = False
                        ) -> v.Page[v.Movement]:
        """``GET .../payments`` or ``.../charges`` (``kind`` is ``payment`` or ``charge``)."""
        params = self._page_params(cursor, limit, deleted="true" if deleted else None)
        return await self._model(v.Page[v.Movement], "GET",
                                 self.path("contracts", contract_id, f"{kind}s"), params=params)

    @_returns_deferred
    async def add_movement(self, kind: str, contract_id: int, amount: Decimal,
                           type_id: int | None = None, day: date | None = None,
                           comment: str = "", idempotency_key: str | None = None
                           ) -> v.Movement:
        """Book a payment or a charge. The same ``idempotency_key`` gives back the same row,
        so a retry after a lost answer never books twice."""
        body: dict[str, Any] = {"amount": amount, "comment": comment}
        if type_id is not None:
            body["type_id"] = type_id
        if day is not None:
            body["date"] = day
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return await self._model(v.Movement, "POST",
                                 self.path("contracts", contract_id, f"{kind}s"), json=body,
                                 headers=headers)

    @_returns_deferred
    async def delete_payment(self, contract_id: int, payment_id: int,
                             reason: str) -> v.Movement:
        return await self._model(v.Movement, "DELETE",
                                 self.path("contracts", contract_id, "payments", payment_id),
                                 json={"reason": reason})

    @_returns_deferred
    async def movement_types(self, kind: str) -> v.Page[v.MovementType]:
        return await self._model(v.Page[v.MovementType], "GET", self.path(f"{kind}-types"))

    @_returns_deferred
    async def create_movement_type(self, kind: str, title: str, parent_id: int | None = None,
                                   refund: bool = False) -> v.MovementType:
        body: dict[str, Any] = {"title": title, "parent_id": parent_id}
        if kind == "charge":
            body["refund"] = refund
        return await self._model(v.MovementType, "POST", self.path(f"{kind}-types"), json=body)

    @_returns_deferred
    async def balance(self, contract_id: int, month: str | None = None) -> v.Balance:
        """``GET .../balance?month=YYYY-MM`` (this month when None)."""
        return await self._model(v.Balance, "GET", self.path("contracts", contract_id,
                                                             "balance"),
                                 params={"month": month} if month else None)

    @_returns_deferred
    async def set_temporary_limit(self, contract_id: int, limit: Decimal,
                                  until: date) -> v.TemporaryLimitView:
        """A promised payment: ``limit`` holds until the end of ``until``."""
        return await self._model(v.TemporaryLimitView, "PUT",
                                 self.path("contracts", contract_id, "temporary-limit"),
                                 json={"limit": limit, "until": until})

    @_returns_deferred
    async def param_definitions(self) -> v.Page[v.ParamDefinition]:
        return await self._model(v.Page[v.ParamDefinition], "GET", self.path("params"))

    @_returns_deferred
    async def create_param_definition(self, body: Mapping[str, Any]) -> v.ParamDefinition:
        return await self._model(v.ParamDefinition, "POST", self.path("params"),
                                 json=dict(body))

    @_returns_deferred
    async def params(self, contract_id: int) -> v.Page[v.ParamValue]:
        return await self._model(v.Page[v.ParamValue], "GET",
                                 self.path("contracts", contract_id, "params"))

    @_returns_deferred
    async def set_param(self, contract_id: int, key: str, value: Any) -> v.ParamValue:
        """``PUT .../params/{key}``; a 422 names what is wrong with the value."""
        return await self._model(v.ParamValue, "PUT",
                                 self.path("contracts", contract_id, "params", key),
                                 json={"value": value})

    @_returns_deferred
    async def remove_param(self, contract_id: int, key: str) -> None:
        await self.request("DELETE", self.path("contracts", contract_id, "params", key))

    @_returns_deferred
    async def audit(self, contract_id: int | None = None, cursor: str | None = None,
                    limit: int | None = None, action: str | None = None
                    ) -> v.Page[v.AuditEntry]:
        """``GET /api/v1/audit``, newest first."""
        return await self._model(v.Page[v.AuditEntry], "GET", self.path("audit"),
                                 params=self._page_params(cursor, limit,
                                                          contract_id=contract_id,
                                                          action=action))

    @_returns_deferred
    async def users(self) -> v.Page[v.Operator]:
        return await self._model(v.Page[v.Operator], "GET", self.path("users"))

    @_returns_deferred
    async def create_user(self, body: Mapping[str, Any]) -> v.Operator:
        return await self._model(v.Operator, "POST", self.path("users"), json=dict(body))

    @_returns_deferred
    async def roles(self) -> v.Page[v.Role]:
        return await self._model(v.Page[v.Role], "GET", self.path("roles"))

    @_returns_deferred
    async def create_role(self, name: str, permissions: list[str]) -> v.Role:
        return await self._model(v.Role, "POST", self.path("roles"),
                                 json={"name": name, "permissions": permissions})

    @_returns_deferred
    async def api_keys(self) -> v.Page[v.ApiKey]:
        return await self._model(v.Page[v.ApiKey], "GET", self.path("api-keys"))

    @_returns_deferred
    async def create_api_key(self, title: str, roles: list[str]) -> v.ApiKeyCreated:
        """The answer carries the key itself, this once."""
        return await self._model(v.ApiKeyCreated, "POST", self.path("api-keys"),
                                 json={"title": title, "roles": roles})

    @_returns_deferred
    async def revoke_api_key(self, key_id: int) -> None:
        await self.request("DELETE", self.path("api-keys", key_id))

    # -- module instances, services, tariff plans, tariff periods ----------------------------

    @_returns_deferred
    async def module_types(self) -> v.Page[v.ModuleType]:
        """``GET /api/v1/module-types``, with the JSON Schemas of their configs."""
        return await self._model(v.Page[v.ModuleType], "GET", self.path("module-types"))

    @_returns_deferred
    async def modules(self) -> v.Page[v.ModuleInstance]:
        return await self._model(v.Page[v.ModuleInstance], "GET", self.path("modules"))

    @_returns_deferred
    async def create_module(self, module_type: str, title: str,
                            config: Mapping[str, Any] | None = None) -> v.ModuleInstance:
        return await self._model(v.ModuleInstance, "POST", self.path("modules"),
                                 json={"type": module_type, "title": title,
                                       "config": dict(config or {})})

    @_returns_deferred
    async def update_module(self, module_id: int, body: Mapping[str, Any]
                            ) -> v.ModuleInstance:
        """``PATCH /api/v1/modules/{id}``: ``title``, ``config``, ``enabled``."""
        return await self._model(v.ModuleInstance, "PATCH", self.path("modules", module_id),
                                 json=dict(body))

    @_returns_deferred
    async def services(self, module_id: int) -> v.Page[v.Service]:
        return await self._model(v.Page[v.Service], "GET",
                                 self.path("modules", module_id, "services"))

    @_returns_deferred
    async def create_service(self, module_id: int, title: str, unit: str = "") -> v.Service:
        return await self._model(v.Service, "POST", self.path("modules", module_id, "services"),
                                 json={"title": title, "unit": unit})

    @_returns_deferred
    async def update_service(self, module_id: int, service_id: int,
                             body: Mapping[str, Any]) -> v.Service:
        """``PATCH .../services/{id}``: ``title``, ``unit``, ``enabled``."""
        return await self._model(v.Service, "PATCH",
                                 self.path("modules", module_id, "services", service_id),
                                 json=dict(body))

    @_returns_deferred
    async def tariffs(self) -> v.Page[v.Tariff]:
        return await self._model(v.Page[v.Tariff], "GET", self.path("tariffs"))

    @_returns_deferred
    async def tariff(self, tariff_id: int) -> v.Tariff:
        return await self._model(v.Tariff, "GET", self.path("tariffs", tariff_id))

    @_returns_deferred
    async def create_tariff(self, body: Mapping[str, Any]) -> v.Tariff:
        """``POST /api/v1/tariffs``; a 422 names each bad field of a module's config
        (``modules.3.fees.0.amount``)."""
        return await self._model(v.Tariff, "POST", self.path("tariffs"), json=dict(body))

    @_returns_deferred
    async def update_tariff(self, tariff_id: int, body: Mapping[str, Any]) -> v.Tariff:
        return await self._model(v.Tariff, "PATCH", self.path("tariffs", tariff_id),
                                 json=dict(body))

    @_returns_deferred
    async def contract_tariffs(self, contract_id: int) -> v.Page[v.TariffPeriod]:
        return await self._model(v.Page[v.TariffPeriod], "GET",
                                 self.path("contracts", contract_id, "tariffs"))

    @_returns_deferred
    async def assign_tariff(self, contract_id: int, tariff_id: int,
                            date_from: date | None = None, date_to: date | None = None,
                            comment: str = "") -> v.TariffPeriod:
        """Put the contract on a plan from a day (today when None); the period before
        ends the day before."""
        body: dict[str, Any] = {"tariff_id": tariff_id, "comment": comment}
        if date_from is not None:
            body["from"] = date_from
        if date_to is not None:
            body["to"] = date_to
        return await self._model(v.TariffPeriod, "POST",
                                 self.path("contracts", contract_id, "tariffs"), json=body)

    @_returns_deferred
    async def drop_tariff(self, contract_id: int, period_id: int) -> None:
        """Drop a tariff period that has not begun (409 once it has)."""
        await self.request("DELETE", self.path("contracts", contract_id, "tariffs", period_id))

    # -- rscm: orders of one-time services ------------------------------------------------

    @_returns_deferred
    async def orders(self, contract_id: int, cursor: str | None = None,
                     limit: int | None = None) -> v.Page[v.Order]:
        return await self._model(v.Page[v.Order], "GET",
                                 self.path("contracts", contract_id, "orders"),
                                 params=self._page_params(cursor, limit))

    @_returns_deferred
    async def create_order(self, contract_id: int, module_id: int, service_id: int,
                           quantity: int = 1, day: date | None = None, comment: str = "",
                           check_balance: bool = False) -> v.Order:
        body: dict[str, Any] = {"module_id": module_id, "service_id": service_id,
                                "quantity": quantity, "comment": comment,
                                "check_balance": check_balance}
        if day is not None:
            body["date"] = day
        return await self._model(v.Order, "POST", self.path("contracts", contract_id, "orders"),
                                 json=body)

    @_returns_deferred
    async def cancel_order(self, contract_id: int, order_id: int, reason: str) -> v.Order:
        return await self._model(v.Order, "POST",
                                 self.path("contracts", contract_id, "orders", order_id,
                                           "cancel"), json={"reason": reason})

    # -- accounts on module instances, usage records --------------------------------------

    @_returns_deferred
    async def accounts(self, contract_id: int) -> v.Page[v.Account]:
        """The contract's inet logins and voice numbers, ended ones too."""
        return await self._model(v.Page[v.Account], "GET",
                                 self.path("contracts", contract_id, "accounts"))

    @_returns_deferred
    async def create_account(self, contract_id: int, module_id: int, login: str,
                             date_from: date | None = None, date_to: date | None = None,
                             **extra: str | None) -> v.Account:
        """A login (inet: with ``password``, ``ip``, ``mac``) or a number (voice) from a
        day; 409 while another contract holds it on those days."""
        body: dict[str, Any] = {"module_id": module_id, "login": login,
                                **{k: val for k, val in extra.items() if val}}
        if date_from is not None:
            body["from"] = date_from
        if date_to is not None:
            body["to"] = date_to
        return await self._model(v.Account, "POST",
                                 self.path("contracts", contract_id, "accounts"), json=body)

    @_returns_deferred
    async def update_account(self, contract_id: int, module_id: int, account_id: int,
                             body: Mapping[str, Any]) -> v.Account:
        """``PATCH .../accounts/{module_id}/{id}``: ``to`` ends it; ``password``, ``ip``,
        ``mac`` change."""
        return await self._model(v.Account, "PATCH",
                                 self.path("contracts", contract_id, "accounts", module_id,
                                           account_id), json=dict(body))

    @_returns_deferred
    async def sessions(self, contract_id: int, cursor: str | None = None,
                       limit: int | None = None, since: date | None = None,
                       until: date | None = None) -> v.Page[v.InetSession]:
        """inet sessions that started on billing days ``since``..``until``."""
        return await self._model(v.Page[v.InetSession], "GET",
                                 self.path("contracts", contract_id, "sessions"),
                                 params=self._page_params(cursor, limit, **{
                                     "from": since, "to": until}))

    @_returns_deferred
    async def calls(self, contract_id: int, cursor: str | None = None,
                    limit: int | None = None, since: date | None = None,
                    until: date | None = None) -> v.Page[v.VoiceCall]:
        """voice calls that started on billing days ``since``..``until``."""
        return await self._model(v.Page[v.VoiceCall], "GET",
                                 self.path("contracts", contract_id, "calls"),
                                 params=self._page_params(cursor, limit, **{
                                     "from": since, "to": until}))

    # -- the loader ---------------------------------------------------------------------------

    @_returns_deferred
    async def loader_sources(self) -> v.Page[v.LoaderSource]:
        return await self._model(v.Page[v.LoaderSource], "GET", self.path("loader", "sources"))

    @_returns_deferred
    async def create_loader_source(self, name: str, format: str, module_id: int,
                                   time_zone: str | None = None) -> v.LoaderSource:
        body: dict[str, Any] = {"name": name, "format": format, "module_id": module_id}
        if time_zone:
            body["time_zone"] = time_zone
        return await self._model(v.LoaderSource, "POST", self.path("loader", "sources"),
                                 json=body)

    @_returns_deferred
    async def update_loader_source(self, source_id: int, body: Mapping[str, Any]
                                   ) -> v.LoaderSource:
        """``PATCH .../sources/{id}``: ``enabled``, ``time_zone``."""
        return await self._model(v.LoaderSource, "PATCH",
                                 self.path("loader", "sources", source_id), json=dict(body))

    @_returns_deferred
    async def loader_files(self, cursor: str | None = None, limit: int | None = None,
                           source_id: int | None = None) -> v.Page[v.LoaderFile]:
        """Loaded files, newest first."""
        return await self._model(v.Page[v.LoaderFile], "GET", self.path("loader", "files"),
                                 params=self._page_params(cursor, limit, source_id=source_id))

    @_returns_deferred
    async def quarantine(self, cursor: str | None = None, limit: int | None = None,
                         source_id: int | None = None, resolved: bool = False
                         ) -> v.Page[v.QuarantineRecord]:
        """Quarantined lines (``resolved``: those a reprocess stored since)."""
        return await self._model(v.Page[v.QuarantineRecord], "GET",
                                 self.path("loader", "quarantine"),
                                 params=self._page_params(cursor, limit, source_id=source_id,
                                                          resolved="true" if resolved
                                                          else None))

    # -- the scheduler ------------------------------------------------------------------------

    @_returns_deferred
    async def scheduler_tasks(self) -> v.Page[v.SchedulerTask]:
        return await self._model(v.Page[v.SchedulerTask], "GET",
                                 self.path("scheduler", "tasks"))

    @_returns_deferred
    async def update_scheduler_task(self, task_id: int, body: Mapping[str, Any]
                                    ) -> v.SchedulerTask:
        """``PATCH .../tasks/{id}``: only the fields given change (``cron`` None: by hand
        only)."""
        return await self._model(v.SchedulerTask, "PATCH",
                                 self.path("scheduler", "tasks", task_id), json=dict(body))

    @_returns_deferred
    async def run_scheduler_task(self, task_id: int,
                                 params: Mapping[str, Any] | None = None) -> v.RunQueued:
        """Queue a run now -> ``{"run_id"}``; follow it with :meth:`scheduler_run`."""
        return await self._model(v.RunQueued, "POST",
                                 self.path("scheduler", "tasks", task_id, "run"),
                                 json={"params": dict(params or {})})

    @_returns_deferred
    async def scheduler_runs(self, task_id: int | None = None, cursor: str | None = None,
                             limit: int | None = None) -> v.Page[v.SchedulerRun]:
        """Runs, newest first."""
        return await self._model(v.Page[v.SchedulerRun], "GET", self.path("scheduler", "runs"),
                                 params=self._page_params(cursor, limit, task_id=task_id))

    @_returns_deferred
    async def scheduler_run(self, run_id: int) -> v.SchedulerRun:
        return await self._model(v.SchedulerRun, "GET", self.path("scheduler", "runs", run_id))

    def follow_events(self, callback: Callable[[dict[str, Any]], Any],
                      last_event_id: str | None = None) -> "EventFollower":
        """Follow ``GET /api/v1/events``: ``callback(event)`` for each event the caller may
        see (``{"id", "type", "occurred_at", "contract_id", "data"}``), reconnecting after
        the last one received when the connection drops, so nothing is missed. Stop with
        ``.stop()``; ``.done`` fires then, or fails with :class:`ApiError` when the server
        refuses (401: the token expired or was revoked; 403).
        """
        follower = EventFollower(self, callback, last_event_id)
        follower.start()
        return follower

    def close(self) -> Deferred:
        """Close the pooled connections (if the pool is the client's own)."""
        if self._own_pool:
            return self._pool.closeCachedConnections()
        return defer.succeed(None)

    @staticmethod
    def path(*parts: Any) -> str:
        """``path("contracts", 7, "payments")`` -> ``/api/v1/contracts/7/payments``, each
        part quoted."""
        return "/api/v1/" + "/".join(quote(str(p), safe="") for p in parts)


class _EventParser(Protocol):
    """The body of a server-sent event stream, parsed as it arrives (the WHATWG rules:
    lines ``field: value``, an event ends at a blank line, ``:`` starts a comment)."""

    def __init__(self, follower: "EventFollower", finished: Deferred):
        self.follower = follower
        self.finished = finished
        self._buffer = b""
        self._fields: dict[str, str] = {}
        self._data: list[str] = []

    def dataReceived(self, data: bytes) -> None:
        self.follower._alive()
        self._buffer += data
        *lines, self._buffer = self._buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n") \
            .split(b"\n")
        for raw in lines:
            self._line(raw.decode("utf-8", "replace"))

    def _line(self, line: str) -> None:
        if not line:
            fields, data = self._fields, self._data
            self._fields, self._data = {}, []
            if "id" in fields:
                self.follower.last_event_id = fields["id"]
            if data:
                self.follower._event(fields.get("event", "message"), "\n".join(data))
            return
        if line.startswith(":"):
            return
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            self._data.append(value)
        elif name == "retry" and value.isdigit():
            self.follower.retry_seconds = int(value) / 1000
        elif name in ("id", "event"):
            self._fields[name] = value

    def connectionLost(self, reason) -> None:
        if not self.finished.called:
            self.finished.callback(None)


class EventFollower:
    """An open ``GET /api/v1/events`` of :meth:`BillingClient.follow_events`.

    ``last_event_id``: the id of the last event received (what a reconnect resumes
    after); ``connected``: whether the stream is open now."""

    #: Without a byte (events or the server's pings) for this long the connection is
    #: taken for dead and opened again.
    idle_seconds = 60.0

    def __init__(self, client: BillingClient, callback: Callable[[dict[str, Any]], Any],
                 last_event_id: str | None):
        self.client = client
        self.callback = callback
        self.last_event_id = last_event_id
        self.retry_seconds = 2.0
        self.connected = False
        self.done: Deferred = Deferred()
        self._stopped = False
        self._body: _EventParser | None = None
        self._running: Deferred | None = None
        self._idle = None

    def start(self) -> None:
        self._running = Deferred.fromCoroutine(self._follow())
        self._running.addErrback(self._failed)

    def stop(self) -> Deferred:
        """Close the stream; ``done`` fires."""
        self._stopped = True
        if self._running is not None:
            self._running.cancel()
        return self.done

    async def _follow(self) -> None:
        failures = 0
        while not self._stopped:
            try:
                await self._once()
                failures = 0
            except ClientError as exc:
                if isinstance(exc, ApiError) and exc.status in (400, 401, 403, 404, 422):
                    raise
                failures += 1
            self.connected = False
            if self._stopped:
                break
            pause = min(self.retry_seconds * (2 ** min(failures, 4)) if failures
                        else self.retry_seconds, 30.0)
            await task.deferLater(self.client._reactor, pause, lambda: None)
        self._finish(None)

    async def _once(self) -> None:
        headers = {"Accept": "text/event-stream"}
        if self.client.token:
            headers["Authorization"] = f"Bearer {self.client.token}"
        if self.last_event_id is not None:
            headers["Last-Event-ID"] = self.last_event_id
        opening = self.client._http.request(
            "GET", self.client.url("/api/v1/events"),
            headers={k: [v] for k, v in headers.items()}, unbuffered=True,
            reactor=self.client._reactor)
        opening.addTimeout(self.client.timeout, self.client._reactor)
        try:
            response = await opening
        except _NO_ANSWER as exc:
            raise ServerUnreachable(self.client.base_url, _reason(exc)) from None
        if response.code != 200:
            content = await response.content()
            content_type = (response.headers.getRawHeaders(b"content-type") or [b""])[0]
            raise _api_error(response.code, _decode_body(response.code, content_type,
                                                         content))
        finished: Deferred = Deferred()
        self._body = _EventParser(self, finished)
        response.deliverBody(self._body)
        self.connected = True
        self._alive()
        try:
            await finished
        except defer.CancelledError:
            self._close_body()
            raise
        finally:
            if self._idle is not None and self._idle.active():
                self._idle.cancel()

    def _alive(self) -> None:
        if self._idle is not None and self._idle.active():
            self._idle.reset(self.idle_seconds)
        else:
            self._idle = self.client._reactor.callLater(self.idle_seconds, self._close_body)

    def _close_body(self) -> None:
        transport = getattr(self._body, "transport", None)
        if transport is not None:
            transport.stopProducing()

    def _event(self, event_type: str, data: str) -> None:
        try:
            event = decode_json(data.encode())
        except ValueError:
            return
        try:
            self.callback(event)
        except Exception:  # a callback's bug must not end the stream
            _log.failure("event callback failed on {type}", type=event_type)

    def _failed(self, failure) -> None:
        self.connected = False
        if failure.check(defer.CancelledError) or self._stopped:
            self._finish(None)
        else:
            self._finish(failure)

    def _finish(self, result) -> None:
        if not self.done.called:
            if result is None:
                self.done.callback(None)
            else:
                self.done.errback(result)


#: Failures that mean the server gave no (complete) answer.
_NO_ANSWER = (ConnectError, DNSLookupError, ConnectionLost, ResponseFailed,
              RequestTransmissionFailed, defer.TimeoutError)


def _read(model: Any, body: Any) -> Any:
    """The answer as its response model; a body that does not fit is the server's fault,
    reported as an :class:`ApiError` the caller already handles, not a traceback."""
    try:
        if isinstance(model, type) and issubclass(model, BaseModel):
            return model.model_validate(body)
        return TypeAdapter(model).validate_python(body)
    except ValidationError as exc:
        raise ApiError(200, UNEXPECTED_RESPONSE,
                       f"the answer does not fit {getattr(model, '__name__', model)}: "
                       f"{exc.errors()[0].get('msg')}", body) from None


def _reason(exc: Exception) -> str:
    if isinstance(exc, (ResponseFailed, RequestTransmissionFailed)):
        return "connection lost: " + "; ".join(f.getErrorMessage() for f in exc.reasons)
    if isinstance(exc, defer.TimeoutError):
        return "no answer in time"
    return str(exc) or type(exc).__name__


def _decode_body(status: int, content_type: bytes, content: bytes) -> Any:
    if not content:
        return None
    if b"json" in content_type.lower():
        try:
            return decode_json(content)
        except ValueError:
            if status >= 400:
                return content.decode("utf-8", "replace")
            raise ApiError(status, UNEXPECTED_RESPONSE, "the server sent invalid JSON") from None
    return content.decode("utf-8", "replace")


def _api_error(status: int, body: Any) -> ApiError:
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("code"), str):
        return ApiError(status, error["code"], str(error.get("message") or error["code"]),
                        error.get("details"))
    snippet = body if isinstance(body, str) else jsonlib.dumps(body, default=str)
    snippet = (snippet or "").strip()[:200]
    return ApiError(status, UNEXPECTED_RESPONSE,
                    f"HTTP {status}" + (f": {snippet}" if snippet else ""), None)
