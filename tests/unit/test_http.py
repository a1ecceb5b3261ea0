"""The HTTP site: JSON errors for client mistakes, the body cap, one log line a request."""

from __future__ import annotations

import json
import re
import socket
import tracemalloc

import pytest
import pytest_twisted
import treq
from twisted.internet import endpoints, reactor, threads
from twisted.internet.protocol import Protocol
from twisted.internet.task import deferLater
from twisted.logger import LogLevel, globalLogPublisher

from bgserver.config import Settings
from tests.support.api import ApiHarness
from tests.support.waiting import wait_until


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


def raw_exchange(port: int, head: bytes, body_pieces=(), timeout: float = 20) -> bytes:
    """A blocking client on a real socket (run in a thread): sends ``head`` and the body
    pieces, then reads the answer to the end. A server that stops reading is noticed."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(head)
            for piece in body_pieces:
                s.sendall(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass
        received = b""
        while True:
            try:
                data = s.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            received += data
    return received


def parse_answer(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    if headers.get("transfer-encoding") == "chunked":
        chunks, rest = [], body
        while True:
            size, _, rest = rest.partition(b"\r\n")
            if int(size, 16) == 0:
                break
            chunks.append(rest[:int(size, 16)])
            rest = rest[int(size, 16) + 2:]
        body = b"".join(chunks)
    return int(lines[0].split()[1]), headers, body


def chunked_login(total: int, piece: int = 65536):
    """A JSON login whose login is ``total`` bytes long, sent in chunks of ``piece``."""
    filler = b"a" * piece
    yield b'b\r\n{"login": "\r\n'
    for _ in range(total // piece):
        yield b"%x\r\n%s\r\n" % (piece, filler)
    yield b'13\r\n", "password": "x"}\r\n0\r\n\r\n'


CHUNKED_LOGIN = (b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                 b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")


@pytest_twisted.ensureDeferred
async def test_a_chunked_body_is_counted_as_it_arrives_and_refused_unread(harness):
    port = harness.port.getHost().port
    tracemalloc.start()
    try:
        raw = await threads.deferToThread(raw_exchange, port, CHUNKED_LOGIN,
                                          chunked_login(40 * 1024 * 1024))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    status, headers, body = parse_answer(raw)
    assert status == 413, raw[:500]
    assert headers["connection"] == "close"
    assert json.loads(body)["error"] == {"code": "payload_too_large",
                                         "message": "request body too large",
                                         "details": {"max_bytes": 2048}}
    assert peak < 8 * 1024 * 1024, f"{peak} bytes allocated at the peak"
    harness.access_log.flush()
    (line,) = [json.loads(x) for x in harness.access_log.out.getvalue().splitlines()]
    assert (line["method"], line["path"], line["status"]) == ("POST", "/api/v1/auth/login", 413)


@pytest_twisted.ensureDeferred
async def test_a_chunked_body_under_the_limit_is_read(harness):
    port = harness.port.getHost().port
    raw = await threads.deferToThread(raw_exchange, port, CHUNKED_LOGIN,
                                      chunked_login(1000, piece=100))
    status, _, body = parse_answer(raw)
    assert status == 422, raw  # read and parsed: the login is too long to be one
    assert json.loads(body)["error"]["details"][0]["field"] == "login"


@pytest_twisted.ensureDeferred
async def test_a_declared_length_over_the_limit_is_answered_without_waiting_for_it(harness):
    port = harness.port.getHost().port
    head = (b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 41943040\r\n\r\n")
    # a tenth of the body is sent, and the answer comes all the same
    raw = await threads.deferToThread(raw_exchange, port, head, [b"a" * 4 * 1024 * 1024])
    assert parse_answer(raw)[0] == 413, raw[:500]


def access_lines(harness) -> list[dict]:
    harness.access_log.flush()
    return [json.loads(x) for x in harness.access_log.out.getvalue().splitlines()]


@pytest_twisted.ensureDeferred
async def test_a_payment_whose_client_hung_up_is_booked_and_logged(harness):
    token = await harness.admin()
    status, contract, _ = await harness.call("POST", "/api/v1/contracts", token=token,
                                             json={"title": "Hangs up"})
    assert status == 201, contract
    harness.services.auth.cache.clear()  # so that the request waits for the database
    body = b'{"amount": "10.00"}'
    path = f"/api/v1/contracts/{contract['id']}/payments"
    hangs_up = await endpoints.connectProtocol(
        endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", harness.port.getHost().port),
        Protocol())
    hangs_up.transport.write(
        f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        + body)
    hangs_up.transport.loseConnection()

    async def booked():
        status, payments, _ = await harness.call("GET", path, token=token)
        return [p["amount"] for p in payments["items"]] == ["10.00"]
    await wait_until(booked)

    def posted():
        return [line for line in access_lines(harness)
                if (line["method"], line["path"]) == ("POST", path)]
    await wait_until(posted)
    (line,) = posted()
    assert (line["status"], line["hung_up"]) == (201, True)


@pytest_twisted.ensureDeferred
async def test_what_a_client_sends_cannot_end_an_access_log_line(harness):
    forged = b'/x","status":200,"client":"10.1.1.1"}\\'  # Twisted lets only ASCII through
    raw = await threads.deferToThread(
        raw_exchange, harness.port.getHost().port,
        b"GET " + forged + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert parse_answer(raw)[0] == 404
    harness.access_log.flush()
    text = harness.access_log.out.getvalue()
    assert len(text.splitlines()) == 1
    (line,) = access_lines(harness)
    assert line["path"] == forged.decode() and line["status"] == 404


@pytest_twisted.ensureDeferred
async def test_a_read_whose_client_hung_up_is_logged_as_499(harness):
    token = await harness.admin()
    harness.services.auth.cache.clear()  # so that the request waits for the database
    hangs_up = await endpoints.connectProtocol(
        endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", harness.port.getHost().port),
        Protocol())
    hangs_up.transport.write(f"GET /api/v1/contracts HTTP/1.1\r\nHost: x\r\n"
                             f"Authorization: Bearer {token}\r\n\r\n".encode())
    hangs_up.transport.loseConnection()

    def read():
        return [line for line in access_lines(harness) if line["path"] == "/api/v1/contracts"]
    await wait_until(read)
    (line,) = read()
    assert (line["status"], line["hung_up"]) == (499, True)
