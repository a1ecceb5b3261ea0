"""The API client: against a real bgbilling server in a subprocess (the wire as it is), and
against a scripted in-process web server for the answers a healthy server does not give
(503, broken proxies, silence, a login that works)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.defer import CancelledError, Deferred
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Site

from bgshared.api import errors as codes
from bgshared.client import (UNEXPECTED_RESPONSE, ApiError, BillingClient, ServerUnreachable,
                             decode_json, encode_json)
from tests.e2e.server import ADMIN_PASSWORD
from tests.support.services import free_port
from tests.support.waiting import wait_until


@pytest.fixture
def client(billing_server):
    client = BillingClient(billing_server.url)
    yield client
    pytest_twisted.blockon(client.close())


# --- against the real server -------------------------------------------------------------

@pytest_twisted.ensureDeferred
async def test_health_of_a_running_server(client):
    health = await client.health()
    assert health == {"status": "ok", "database": "ok",
                      "events": {"broker": "local", "connected": True}}


@pytest_twisted.ensureDeferred
async def test_unknown_route_raises_api_error_not_found(client):
    with pytest.raises(ApiError) as caught:
        await client.request("GET", "/api/v1/no-such-thing")
    assert caught.value.status == 404
    assert caught.value.code == codes.NOT_FOUND
    assert caught.value.message == "no such resource"


@pytest_twisted.ensureDeferred
async def test_failed_login_raises_and_keeps_no_token(client):
    with pytest.raises(ApiError) as caught:
        await client.login("admin", "not-the-password")
    assert (caught.value.status, caught.value.code) == (401, codes.UNAUTHENTICATED)
    assert client.token is None


@pytest_twisted.ensureDeferred
async def test_login_then_me(client):
    answer = await client.login("admin", ADMIN_PASSWORD)
    assert client.token == answer.token and answer.expires_at
    me = await client.me()
    assert me.login == "admin"
    assert "contract.read" in me.permissions


@pytest_twisted.ensureDeferred
async def test_me_without_a_token_is_unauthenticated(client):
    with pytest.raises(ApiError) as caught:
        await client.me()
    assert (caught.value.status, caught.value.code) == (401, codes.UNAUTHENTICATED)


# --- against a scripted server -----------------------------------------------------------

NOT_FOUND_ANSWER = (404, b"application/json",
                    b'{"error": {"code": "not_found", "message": "no such resource"}}')


class Scripted(Resource):
    """Answers each path with what the test put in ``routes``; records the requests."""

    isLeaf = True

    def __init__(self):
        super().__init__()
        self.routes: dict[bytes, tuple[int, bytes, bytes] | None] = {}
        self.seen: list[tuple[bytes, bytes, dict, bytes]] = []
        self.client_ports: set[int] = set()

    def render(self, request):
        self.client_ports.add(request.getClientAddress().port)
        self.seen.append((request.method, request.path,
                          dict(request.requestHeaders.getAllRawHeaders()),
                          request.content.read()))
        answer = self.routes.get(request.path, NOT_FOUND_ANSWER)
        if answer is None:
            return NOT_DONE_YET  # never answers
        status, content_type, body = answer
        request.setResponseCode(status)
        request.setHeader(b"content-type", content_type)
        return body


@pytest.fixture
def scripted():
    resource = Scripted()
    port = reactor.listenTCP(0, Site(resource), interface="127.0.0.1")
    resource.url = f"http://127.0.0.1:{port.getHost().port}"
    yield resource
    pytest_twisted.blockon(port.stopListening())


@pytest.fixture
def scripted_client(scripted):
    client = BillingClient(scripted.url, timeout=2)
    yield client
    pytest_twisted.blockon(client.close())


def as_json(body) -> bytes:
    return json.dumps(body).encode()


@pytest_twisted.ensureDeferred
async def test_health_answers_the_body_of_a_503(scripted, scripted_client):
    down = {"status": "error", "database": "unavailable: disk I/O error",
            "events": {"broker": "local", "connected": True}}
    scripted.routes[b"/health"] = (503, b"application/json", as_json(down))
    assert await scripted_client.health() == down


@pytest_twisted.ensureDeferred
async def test_health_raises_for_an_error_body_503(scripted, scripted_client):
    scripted.routes[b"/health"] = (503, b"application/json", as_json(
        {"error": {"code": "unavailable", "message": "try again", "details": None}}))
    with pytest.raises(ApiError) as caught:
        await scripted_client.health()
    assert (caught.value.status, caught.value.code) == (503, codes.UNAVAILABLE)


@pytest_twisted.ensureDeferred
async def test_error_without_our_json_body(scripted, scripted_client):
    scripted.routes[b"/health"] = (502, b"text/html", b"<html>Bad Gateway</html>")
    with pytest.raises(ApiError) as caught:
        await scripted_client.health()
    assert caught.value.status == 502
    assert caught.value.code == UNEXPECTED_RESPONSE
    assert "Bad Gateway" in caught.value.message


@pytest_twisted.ensureDeferred
async def test_login_keeps_the_token_for_later_calls(scripted, scripted_client):
    scripted.routes[b"/api/v1/auth/login"] = (200, b"application/json", as_json(
        {"token": "t0k3n", "expires_at": "2026-01-16T12:00:00Z"}))
    scripted.routes[b"/api/v1/me"] = (200, b"application/json", as_json(
        {"login": "admin", "roles": ["admin"], "permissions": ["contract.read"]}))
    answer = await scripted_client.login("admin", "secret")
    assert answer.token == "t0k3n" and scripted_client.token == "t0k3n"
    me = await scripted_client.me()
    assert me.login == "admin"
    (_, _, login_headers, login_body), (_, _, me_headers, _) = scripted.seen
    assert json.loads(login_body) == {"login": "admin", "password": "secret"}
    assert b"Authorization" not in login_headers
    assert me_headers[b"Authorization"] == [b"Bearer t0k3n"]


@pytest_twisted.ensureDeferred
async def test_money_is_never_a_float(scripted, scripted_client):
    scripted.routes[b"/api/v1/contracts/1/payments"] = (
        201, b"application/json", b'{"amount": "100.10", "rate": 0.1, "count": 3}')
    status, body = await scripted_client.request(
        "POST", BillingClient.path("contracts", 1, "payments"),
        json={"amount": Decimal("100.10")})
    assert status == 201
    assert body == {"amount": "100.10", "rate": Decimal("0.1"), "count": 3}
    assert isinstance(body["rate"], Decimal)
    assert scripted.seen[0][3] == b'{"amount": "100.10"}'


@pytest_twisted.ensureDeferred
async def test_connections_are_reused(scripted, scripted_client):
    """A persistent pool: many calls, one TCP connection (bgtui refreshes all day)."""
    scripted.routes[b"/health"] = (200, b"application/json", b'{"status": "ok"}')
    for _ in range(5):
        await scripted_client.health()
    assert len(scripted.seen) == 5
    assert len(scripted.client_ports) == 1


def test_json_helpers_keep_decimals_exact():
    assert encode_json({"a": Decimal("1E+2"), "b": Decimal("0.30")}) == b'{"a": "100", "b": "0.30"}'
    assert decode_json(b"[0.1, 0.2]") == [Decimal("0.1"), Decimal("0.2")]
    with pytest.raises(TypeError):
        encode_json({"a": object()})


@pytest_twisted.ensureDeferred
async def test_no_server_raises_server_unreachable():
    client = BillingClient(f"http://127.0.0.1:{free_port()}")
    try:
        with pytest.raises(ServerUnreachable) as caught:
            await client.health()
        assert "cannot reach" in str(caught.value)
    finally:
        await client.close()


@pytest_twisted.ensureDeferred
async def test_a_silent_server_times_out(scripted):
    scripted.routes[b"/health"] = None
    client = BillingClient(scripted.url, timeout=0.3)
    try:
        with pytest.raises(ServerUnreachable) as caught:
            await client.health()
        assert caught.value.reason == "no answer in time"
    finally:
        await client.close()


@pytest_twisted.ensureDeferred
async def test_cancelling_a_call_cancels_the_request(scripted, scripted_client):
    """bgtui cancels a refresh that a newer one replaces; that must not look like an outage."""
    scripted.routes[b"/health"] = None
    call: Deferred = scripted_client.health()
    # cancelled while the server holds the request (not while the address is still being
    # looked up, which a busy machine can make last longer than a fixed wait)
    await wait_until(lambda: scripted.seen)
    call.cancel()
    with pytest.raises(CancelledError):
        await call
