"""The HTTP site: JSON errors for client mistakes, the body cap, one log line a request."""

from __future__ import annotations

import json
import re

import pytest
import pytest_twisted
import treq
from twisted.internet import endpoints, reactor
from twisted.internet.protocol import Protocol
from twisted.internet.task import deferLater
from twisted.logger import LogLevel, globalLogPublisher

from bgserver.config import Settings
from tests.support.api import ApiHarness


@pytest.fixture
def harness(sqlite_database, clock):
    harness = ApiHarness(sqlite_database, clock,
                         Settings().with_overrides(server={"max_body_bytes": 2048}))
    yield harness
    harness.close()


@pytest.fixture
def server(harness):
    return harness.url


@pytest.fixture
def logged():
    events = []
    globalLogPublisher.addObserver(events.append)
    yield events
    globalLogPublisher.removeObserver(events.append)


async def call(method, url, **kwargs):
    response = await treq.request(method, url, **kwargs)
    return response.code, response.headers, json.loads(await response.content())


@pytest_twisted.ensureDeferred
async def test_health(server):
    code, headers, body = await call("GET", server + "/health")
    assert code == 200
    assert headers.getRawHeaders("content-type") == ["application/json"]
    assert body == {"status": "ok", "database": "ok",
                    "events": {"broker": "local", "connected": True}}


@pytest.mark.parametrize("method, path, status, error", [
    ("GET", "/no/such/thing", 404, "not_found"),
    ("DELETE", "/health", 405, "method_not_allowed"),
])
@pytest_twisted.ensureDeferred
async def test_client_mistakes_get_the_json_error_body(server, method, path, status, error):
    code, _, body = await call(method, server + path)
    assert code == status
    assert body["error"]["code"] == error and body["error"]["message"]


@pytest_twisted.ensureDeferred
async def test_an_oversized_body_is_refused_before_it_is_read(server):
    code, _, body = await call("POST", server + "/health", data=b"x" * 5000)
    assert code == 413
    assert body["error"] == {"code": "payload_too_large", "message": "request body too large",
                             "details": {"max_bytes": 2048}}


@pytest_twisted.ensureDeferred
async def test_one_access_log_line_per_request_without_the_query(harness):
    await call("GET", harness.url + "/health?token=secret-value")
    await call("GET", harness.url + "/no/such/thing")
    harness.access_log.flush()
    text = harness.access_log.out.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]
    assert [(line["method"], line["path"], line["status"]) for line in lines] == [
        ("GET", "/health", 200), ("GET", "/no/such/thing", 404)]
    assert all(line["duration_ms"] >= 0 and line["client"] == "127.0.0.1" for line in lines)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", lines[0]["time"])
    assert "secret-value" not in text


@pytest_twisted.ensureDeferred
async def test_a_client_that_hangs_up_while_its_request_waits_is_not_an_error(
        sqlite_database, clock, logged):
    harness = ApiHarness(sqlite_database, clock)
    try:
        token = await harness.admin()
        harness.services.auth.cache.clear()  # so that the request waits for the database
        port = harness.port.getHost().port
        waiting = []
        for _ in range(5):
            hangs_up = await endpoints.connectProtocol(
                endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", port), Protocol())
            hangs_up.transport.write(f"GET /api/v1/contracts/1 HTTP/1.1\r\nHost: x\r\n"
                                     f"Authorization: Bearer {token}\r\n\r\n".encode())
            hangs_up.transport.loseConnection()
            waiting.append(hangs_up)
        await deferLater(reactor, 0.5, lambda: None)
        assert not [e for e in logged if e.get("log_level") == LogLevel.critical
                    or e.get("isError")], [e.get("log_format") for e in logged]
    finally:
        await harness.aclose()
