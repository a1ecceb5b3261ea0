"""Who the client is and how much of the server it may hold: trusted proxies'
X-Forwarded-For, a deadline for the request line and headers, a cap on connections per
address, the answer's head (no version banner, reason phrases, no redirect to elsewhere)."""

from __future__ import annotations

import json
import socket
import time

import pytest
import pytest_twisted
from sqlalchemy import select
from twisted.internet import threads
from twisted.logger import formatEvent

from bgserver.api.clients import TrustedProxies
from bgserver.config import Settings
from bgserver.logs import shown
from bgserver.storage.schema import login_attempt
from tests.support.api import ApiHarness
from tests.unit.test_http import access_lines, logged, parse_answer, raw_exchange  # noqa: F401


def harness_with(database, clock, **server):
    return ApiHarness(database, clock, Settings().with_overrides(server=server))


@pytest.fixture
def make_harness(sqlite_database, clock):
    made = []

    def make(**server):
        made.append(harness_with(sqlite_database, clock, **server))
        return made[-1]
    yield make
    for harness in made:
        harness.close()


# -- X-Forwarded-For --------------------------------------------------------------------

@pytest.mark.parametrize("trusted, peer, header, client", [
    ([], "127.0.0.1", ["6.6.6.6"], "127.0.0.1"),                     # nobody trusted
    (["10.0.0.1"], "127.0.0.1", ["6.6.6.6"], "127.0.0.1"),           # not from a proxy
    (["127.0.0.1"], "127.0.0.1", ["6.6.6.6, 10.0.0.9"], "10.0.0.9"),  # the last hop
    (["127.0.0.1", "10.0.0.0/8"], "127.0.0.1", ["6.6.6.6, 10.0.0.9"], "6.6.6.6"),
    (["127.0.0.1", "10.0.0.0/8"], "127.0.0.1", ["6.6.6.6", "10.0.0.9"], "6.6.6.6"),
    (["127.0.0.1"], "127.0.0.1", ["forged, not-an-address"], "127.0.0.1"),
    (["127.0.0.1"], "127.0.0.1", [" 2001:db8::1 "], "2001:db8::1"),
    (["127.0.0.0/8"], "::ffff:127.0.0.1", ["6.6.6.6"], "6.6.6.6"),
    (["127.0.0.1"], "127.0.0.1", None, "127.0.0.1"),
])
def test_the_client_is_the_last_hop_no_trusted_proxy_added(trusted, peer, header, client):
    forwarded = None if header is None else [value.encode() for value in header]
    assert TrustedProxies(trusted).client(peer, forwarded) == client


def test_trusted_proxies_from_the_environment_and_wrong_ones_named():
    from bgserver.config import ConfigError, load_settings
    settings = load_settings(environ={"BG_SERVER__TRUSTED_PROXIES": "10.0.0.1, 192.168.0.0/16"})
    assert settings.server.trusted_proxies == ["10.0.0.1", "192.168.0.0/16"]
    with pytest.raises(ConfigError, match="server.trusted_proxies"):
        load_settings(environ={"BG_SERVER__TRUSTED_PROXIES": "10.0.0.300"})


async def _audited_address(harness, headers):
    token = await harness.admin()
    status, contract, _ = await harness.call("POST", "/api/v1/contracts", token=token,
                                             json={"title": "Via proxy"}, headers=headers)
    assert status == 201, contract
    _, found, _ = await harness.call("GET", f"/api/v1/audit?contract_id={contract['id']}",
                                     token=token)
    return {row.get("address") for row in found["items"]}


@pytest_twisted.ensureDeferred
async def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client(make_harness):
    harness = make_harness(trusted_proxies=["127.0.0.1"])
    assert await _audited_address(harness, {"X-Forwarded-For": "6.6.6.6, 10.0.0.9"}) == {
        "10.0.0.9"}
    assert {line["client"] for line in access_lines(harness)
            if line["path"] == "/api/v1/contracts"} == {"10.0.0.9"}
    # a login's failure is counted against that address
    status, _, _ = await harness.call("POST", "/api/v1/auth/login",
                                      json={"login": "nobody", "password": "wrong"},
                                      headers={"X-Forwarded-For": "10.0.0.7"})
    assert status == 401
    attempts = await harness.services.database.run("attempts", lambda conn: conn.execute(
        select(login_attempt.c.address, login_attempt.c.success).where(
            login_attempt.c.login == "nobody")).all())
    assert [tuple(a) for a in attempts] == [("10.0.0.7", False)]


@pytest_twisted.ensureDeferred
async def test_from_anyone_else_x_forwarded_for_is_ignored(make_harness):
    harness = make_harness()
    assert await _audited_address(harness, {"X-Forwarded-For": "6.6.6.6"}) == {"127.0.0.1"}
    assert {line["client"] for line in access_lines(harness)} == {"127.0.0.1"}


# -- slow and greedy clients -------------------------------------------------------------

def trickle(port: int, seconds: float) -> tuple[float, bytes]:
    """A slowloris: a header line every 0.1 s for ``seconds``; -> (when the server closed
    the connection, after how many seconds; what it answered)."""
    started = time.monotonic()
    received = b""
    with socket.create_connection(("127.0.0.1", port), timeout=seconds + 5) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        s.settimeout(0.1)
        while time.monotonic() - started < seconds:
            try:
                s.sendall(b"X-Slow: y\r\n")
                data = s.recv(4096)
                if not data:
                    break
                received += data
            except socket.timeout:
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
    return time.monotonic() - started, received


@pytest_twisted.ensureDeferred
async def test_request_headers_that_come_too_slowly_are_cut_off(make_harness):
    harness = make_harness(header_timeout=0.5)
    took, answer = await threads.deferToThread(trickle, harness.port.getHost().port, 8)
    assert took < 4, took
    status, headers, body = parse_answer(answer)
    assert status == 408 and json.loads(body)["error"]["code"] == "request_timeout"
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")


def keep_alive(port: int, pause: float) -> list[int]:
    """Two requests on one connection, ``pause`` seconds apart."""
    statuses = []
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        for close in (False, True):
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n"
                      + (b"Connection: close\r\n" if close else b"") + b"\r\n")
            answer = s.recv(65536)
            statuses.append(int(answer.split()[1]))
            time.sleep(pause)
    return statuses


@pytest_twisted.ensureDeferred
async def test_a_kept_alive_connection_may_wait_longer_than_the_header_deadline(make_harness):
    harness = make_harness(header_timeout=0.5)
    statuses = await threads.deferToThread(keep_alive, harness.port.getHost().port, 1.0)
    assert statuses == [200, 200]


def hold_connections(port: int, count: int) -> list[socket.socket]:
    sockets = [socket.create_connection(("127.0.0.1", port), timeout=10)
               for _ in range(count)]
    time.sleep(0.2)  # all accepted
    return sockets


def health_on(s: socket.socket) -> bytes:
    try:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
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
    s.close()
    return received


@pytest_twisted.ensureDeferred
async def test_open_connections_per_address_are_capped(make_harness):
    harness = make_harness(max_connections_per_address=3, header_timeout=30)
    port = harness.port.getHost().port
    held = await threads.deferToThread(hold_connections, port, 3)
    try:
        (extra,) = await threads.deferToThread(hold_connections, port, 1)
        answer = await threads.deferToThread(health_on, extra)
        status, _, body = parse_answer(answer)
        assert status == 429 and json.loads(body)["error"]["code"] == "too_many_requests"
        assert harness.site.open_connections == {"127.0.0.1": 3}
        # one closes: room for another
        assert parse_answer(await threads.deferToThread(health_on, held.pop()))[0] == 200
        (another,) = await threads.deferToThread(hold_connections, port, 1)
        assert parse_answer(await threads.deferToThread(health_on, another))[0] == 200
    finally:
        for s in held:
            s.close()


@pytest_twisted.ensureDeferred
async def test_a_trusted_proxy_has_no_connection_cap(make_harness):
    harness = make_harness(max_connections_per_address=1, header_timeout=30,
                           trusted_proxies=["127.0.0.1"])
    port = harness.port.getHost().port
    held = await threads.deferToThread(hold_connections, port, 3)
    try:
        assert parse_answer(await threads.deferToThread(health_on, held.pop()))[0] == 200
    finally:
        for s in held:
            s.close()


# -- the answer's head -------------------------------------------------------------------

@pytest_twisted.ensureDeferred
async def test_no_server_banner_and_reason_phrases_for_422_and_429(make_harness):
    harness = make_harness()
    port = harness.port.getHost().port
    answer = await threads.deferToThread(
        raw_exchange, port, b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\n"
        b"Connection: close\r\nContent-Length: 2\r\n\r\n{}")
    assert answer.startswith(b"HTTP/1.1 422 Unprocessable Entity\r\n"), answer
    assert b"\r\nserver:" not in answer.lower()
    for _ in range(Settings().auth.max_failures_per_login):
        await harness.call("POST", "/api/v1/auth/login",
                           json={"login": "nobody", "password": "wrong"})
    answer = await threads.deferToThread(
        raw_exchange, port, b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\n"
        b"Connection: close\r\nContent-Length: 38\r\n\r\n"
        b'{"login": "nobody", "password": "bad"}')
    assert answer.startswith(b"HTTP/1.1 429 Too Many Requests\r\n"), answer


@pytest.mark.parametrize("path, status", [
    (b"/api//v1/me", 404),  # werkzeug answered 308 to http://<Host header>/api/v1/me
    (b"/api/v1//openapi.json", 404),
    (b"//evil.example/health", 404),
    (b"//health", 200),  # Klein drops the empty first segment: /health itself
])
@pytest_twisted.ensureDeferred
async def test_a_path_with_double_slashes_is_not_redirected_anywhere(make_harness, path,
                                                                     status):
    harness = make_harness()
    answer = await threads.deferToThread(
        raw_exchange, harness.port.getHost().port,
        b"GET " + path + b" HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n")
    answered, headers, body = parse_answer(answer)
    assert answered == status, answer
    assert "location" not in headers
    assert status == 200 or json.loads(body)["error"]["code"] == "not_found"


# -- what clients write, in the server's log ---------------------------------------------

def test_user_text_is_shown_quoted_and_escaped():
    assert shown("ivan") == '"ivan"'
    assert shown("Иван") == '"Иван"'
    assert shown('a"b\\c') == '"a\\"b\\\\c"'
    assert shown("x\n2026 [-] login succeeded\r\u2028\x85\x00") == (
        '"x\\x0a2026 [-] login succeeded\\x0d\\u2028\\x85\\x00"')


@pytest_twisted.ensureDeferred
async def test_a_login_cannot_forge_a_line_of_the_server_log(make_harness, logged):
    harness = make_harness()
    forged = 'x\n2026-01-15T12:00:00+0000 [-] login succeeded for "admin'
    status, _, _ = await harness.call("POST", "/api/v1/auth/login",
                                      json={"login": forged, "password": "wrong"})
    assert status == 401
    texts = [formatEvent(e) for e in logged if "login" in e and e.get("log_format")]
    assert texts and all("\n" not in text for text in texts), texts
    assert any(shown(forged) in text for text in texts), texts
