"""The whole API on a real HTTP port, over a test database and a clock the test moves."""

from __future__ import annotations

import io
import itertools
from types import SimpleNamespace
from typing import Any

import pytest_twisted
import treq
from twisted.internet import reactor
from twisted.internet.defer import ensureDeferred
from twisted.web.client import HTTPConnectionPool

from bgserver.api.accesslog import AccessLog
from bgserver.api.app import ApiServices, build_api
from bgserver.api.site import BillingSite
from bgserver.billing.access import system_caller
from bgserver.config import Settings
from bgserver.services import http_resource, module_registry
from bgserver.events.local import LocalBus
from bgshared import wire
from bgshared.api.models import RoleCreate, UserCreate
from bgshared.api.permissions import PERMISSIONS

SETUP = system_caller("test-setup")
_names = itertools.count(1)


class ApiHarness:
    def __init__(self, database, clock, settings: Settings | None = None, bus=None):
        self.settings = settings or Settings()
        self.services = ApiServices.build(database, bus or LocalBus(reactor), clock,
                                          self.settings, module_registry())
        self.api = build_api(self.services)
        self.access_log = AccessLog(reactor, io.StringIO())
        self.site = BillingSite.from_settings(http_resource(self.services, self.api), reactor,
                                              self.access_log, self.settings.server)
        self.port = reactor.listenTCP(0, self.site, interface="127.0.0.1")
        self.url = f"http://127.0.0.1:{self.port.getHost().port}"
        self.pool = HTTPConnectionPool(reactor, persistent=True)

    async def aclose(self) -> None:
        await self.pool.closeCachedConnections()
        await self.port.stopListening()
        self.access_log.flush()

    def close(self) -> None:
        """For fixtures (outside the reactor's greenlet); tests await :meth:`aclose`."""
        pytest_twisted.blockon(ensureDeferred(self.aclose()))

    async def call(self, method: str, path: str, token: str | None = None, json: Any = None,
                   data: bytes | None = None, headers: dict[str, str] | None = None):
        """-> (status, decoded JSON body, response headers)"""
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        if json is not None:
            data = wire.dumps(json).encode()
            sent["Content-Type"] = "application/json"
        response = await treq.request(method, self.url + path, data=data,
                                      headers={k: [v] for k, v in sent.items()}, pool=self.pool)
        raw = await response.content()
        return response.code, (wire.loads(raw) if raw else None), response.headers

    async def login(self, login: str, password: str) -> str:
        status, body, _ = await self.call("POST", "/api/v1/auth/login",
                                          json={"login": login, "password": password})
        assert status == 200, body
        return body["token"]

    async def operator(self, permissions: set[str] | frozenset[str] | None = None, *,
                       roles: list[str] | None = None, groups: list[int] | None = None,
                       password: str = "correct horse") -> tuple[str, dict[str, Any]]:
        """A new operator with exactly ``permissions`` (or ``roles``), signed in."""
        n = next(_names)
        if roles is None:
            role = await self.services.users.create_role(SETUP, RoleCreate(
                name=f"role-{n}", permissions=sorted(permissions or ())))
            roles = [role["name"]]
        user = await self.services.users.create_user(SETUP, UserCreate(
            login=f"op{n}", name=f"Operator {n}", password=password, roles=roles,
            groups=groups or []))
        return await self.login(user["login"], password), user

    async def north_and_south(self, token: str) -> SimpleNamespace:
        """Two contract groups with a contract in each: ``north``, ``south``, ``ours`` (in
        North) and ``theirs`` (in South), as the API returned them."""
        made = {}
        for group in ("north", "south"):
            made[group] = (await self.call("POST", "/api/v1/contract-groups", token=token,
                                           json={"title": group.title()}))[1]
        for name, group in (("ours", "north"), ("theirs", "south")):
            made[name] = (await self.call("POST", "/api/v1/contracts", token=token, json={
                "title": f"{group.title()} client", "groups": [made[group]["id"]]}))[1]
        return SimpleNamespace(**made)

    async def admin(self) -> str:
        return (await self.operator(set(PERMISSIONS)))[0]
