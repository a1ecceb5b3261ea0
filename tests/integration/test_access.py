"""Authentication, access control and audit through the HTTP API, on SQLite and MariaDB."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest_twisted
from sqlalchemy import select
from twisted.internet import reactor
from twisted.internet.defer import ensureDeferred, gatherResults
from twisted.internet.task import deferLater
from twisted.logger import globalLogPublisher

from bgserver.api.routing import STATUS
from bgserver.billing.errors import BillingError
from bgserver.storage.schema import audit, auth_session, login_attempt
from bgshared.api.permissions import AUTHENTICATED, PERMISSIONS, PUBLIC, READ_ONLY

SAMPLE_BODIES = {
    "/api/v1/users": {"login": "x-user", "password": "long enough"},
    "/api/v1/roles": {"name": "x-role"},
    "/api/v1/api-keys": {"title": "x"},
    "/api/v1/contracts": {"title": "x"},
    "/api/v1/contract-groups": {"title": "x"},
}


def concrete(path: str) -> str:
    return re.sub(r"<(?:\w+:)?\w+>", "1", path)


def rows(database, table):
    return database.run_sync("rows", lambda c: [dict(r._mapping) for r in c.execute(
        select(table).order_by(table.c[list(table.c.keys())[0]]))])


# -- the declarations ------------------------------------------------------------------

def test_every_route_declares_a_permission(sqlite_api):
    api = sqlite_api.api
    declared = {(r.method, r.path) for r in api.routes}
    for rule in api.app.url_map.iter_rules():
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (method, rule.rule) in declared, f"{method} {rule.rule} bypasses Api.route"
    for route in api.routes:
        assert route.permission in PERMISSIONS or route.permission in (AUTHENTICATED, PUBLIC)
    public = {(r.method, r.path) for r in api.routes if r.permission == PUBLIC}
    assert public == {("GET", "/health"), ("POST", "/api/v1/auth/login")}


@pytest_twisted.ensureDeferred
async def test_unauthenticated_calls_get_401(sqlite_api):
    for route in sqlite_api.api.routes:
        if route.permission == PUBLIC:
            continue
        for token in (None, "bgs_not-a-real-token", "bgk_not-a-real-key"):
            status, body, headers = await sqlite_api.call(route.method, concrete(route.path),
                                                          token=token)
            assert status == 401, (route.path, body)
            assert body["error"]["code"] == "unauthenticated"
            assert headers.getRawHeaders("www-authenticate") == ["Bearer"]


@pytest_twisted.ensureDeferred
async def test_authorization_matrix_every_route_refuses_a_role_without_its_permission(api):
    for route in api.api.routes:
        if route.permission in (PUBLIC, AUTHENTICATED):
            continue
        token, _ = await api.operator(set(PERMISSIONS) - {route.permission})
        status, body, _ = await api.call(route.method, concrete(route.path), token=token,
                                         json=SAMPLE_BODIES.get(route.path, {}))
        assert status == 403, (route.method, route.path, body)
        assert body["error"] == {"code": "forbidden",
                                 "message": f"needs the permission {route.permission}",
                                 "details": {"permission": route.permission}}


# -- logins and sessions ---------------------------------------------------------------

@pytest_twisted.ensureDeferred
async def test_login_me_logout(api):
    token, user = await api.operator({"contract.read"})
    status, me, _ = await api.call("GET", "/api/v1/me", token=token)
    assert status == 200
    assert me == {"id": user["id"], "kind": "operator", "login": user["login"],
                  "permissions": ["contract.read"], "groups": None}
    assert (await api.call("POST", "/api/v1/auth/logout", token=token))[0] == 200
    assert (await api.call("GET", "/api/v1/me", token=token))[0] == 401
    sessions = rows(api.services.database, auth_session)
    assert all(token not in str(s) for s in sessions)  # only its hash is kept


@pytest_twisted.ensureDeferred
async def test_wrong_passwords_and_unknown_logins_are_401_and_recorded(api):
    _, user = await api.operator(set(), password="right password")
    for login, password in ((user["login"], "wrong"), ("nobody", "whatever")):
        status, body, _ = await api.call("POST", "/api/v1/auth/login",
                                         json={"login": login, "password": password})
        assert status == 401 and body["error"]["code"] == "unauthenticated"
    attempts = rows(api.services.database, login_attempt)
    assert [(a["login"], a["success"]) for a in attempts] == [
        (user["login"], True), (user["login"], False), ("nobody", False)]
    assert attempts[0]["address"] == "127.0.0.1" and attempts[0]["realm"] == "operator"


@pytest_twisted.ensureDeferred
async def test_malformed_login_bodies_are_4xx(sqlite_api):
    for data, status in ((b"{not json", 400), (b"[1, 2]", 400),
                         (b'{"login": "a"}', 422), (b'{"login": "a", "password": "b", "x": 1}',
                                                    422)):
        got, body, _ = await sqlite_api.call("POST", "/api/v1/auth/login", data=data)
        assert got == status, body
        assert body["error"]["message"]


@pytest_twisted.ensureDeferred
async def test_sessions_expire_when_idle_and_at_their_end(api, fake_reactor):
    token, _ = await api.operator(set())
    fake_reactor.advance(timedelta(minutes=59).total_seconds())
    assert (await api.call("GET", "/api/v1/me", token=token))[0] == 200  # use renews idleness
    fake_reactor.advance(timedelta(minutes=59).total_seconds())
    assert (await api.call("GET", "/api/v1/me", token=token))[0] == 200
    fake_reactor.advance(timedelta(minutes=61).total_seconds())
    assert (await api.call("GET", "/api/v1/me", token=token))[0] == 401  # idle too long

    token, _ = await api.operator(set())
    for _ in range(12):  # busy all day: still ends after session_hours (12)
        assert (await api.call("GET", "/api/v1/me", token=token))[0] == 200
        fake_reactor.advance(timedelta(minutes=59).total_seconds())
    fake_reactor.advance(timedelta(minutes=13).total_seconds())
    assert (await api.call("GET", "/api/v1/me", token=token))[0] == 401


@pytest_twisted.ensureDeferred
async def test_disabling_an_operator_revokes_its_sessions_at_once(api):
    admin = await api.admin()
    token, user = await api.operator({"contract.read"})
    other, _ = await api.operator({"contract.read"})
    status, body, _ = await api.call("PATCH", f"/api/v1/users/{user['id']}", token=admin,
                                     json={"status": "disabled"})
    assert status == 200 and body["status"] == "disabled"
    assert (await api.call("GET", "/api/v1/me", token=token))[0] == 401
    assert (await api.call("GET", "/api/v1/me", token=other))[0] == 200
    status, _, _ = await api.call("POST", "/api/v1/auth/login",
                                  json={"login": user["login"], "password": "correct horse"})
    assert status == 401


@pytest_twisted.ensureDeferred
async def test_too_many_failures_answer_429_for_a_while(api, fake_reactor):
    _, user = await api.operator(set(), password="the right one")

    async def attempt(password, login=user["login"]):
        return await api.call("POST", "/api/v1/auth/login",
                              json={"login": login, "password": password})

    for _ in range(5):
        assert (await attempt("guess"))[0] == 401
    status, body, headers = await attempt("the right one")
    assert status == 429 and body["error"]["code"] == "too_many_requests"
    assert headers.getRawHeaders("retry-after") == ["900"]
    fake_reactor.advance(timedelta(minutes=16).total_seconds())
    assert (await attempt("the right one"))[0] == 200


@pytest_twisted.ensureDeferred
async def test_failures_from_one_address_over_many_logins_are_throttled(api):
    for n in range(30):
        assert (await api.call("POST", "/api/v1/auth/login",
                               json={"login": f"user{n}", "password": "x"}))[0] == 401
    status, _, _ = await api.call("POST", "/api/v1/auth/login",
                                  json={"login": "someone-else", "password": "x"})
    assert status == 429


async def login_status(api, login, password, address):
    """A login through the service, as from ``address``: the status the API would answer."""
    try:
        await api.services.auth.login(login, password, address)
    except BillingError as error:
        return STATUS[error.code]
    return 200


async def slowed(fake_reactor, work, seconds=3.0):
    """-> (``work``'s result, whether it waited ``seconds`` on the clock first: the fake
    clock is moved only once the wait is there to see)."""
    done = ensureDeferred(work)
    while not done.called:
        due = fake_reactor.seconds() + seconds
        if any(call.getTime() == due for call in fake_reactor.getDelayedCalls()):
            fake_reactor.advance(seconds)
            return await done, True
        await deferLater(reactor, 0.01, lambda: None)
    return await done, False


@pytest_twisted.ensureDeferred
async def test_a_burst_of_parallel_wrong_passwords_cannot_pass_the_limit(api):
    _, user = await api.operator(set(), password="the right one")
    statuses = await gatherResults([ensureDeferred(api.call(
        "POST", "/api/v1/auth/login", json={"login": user["login"], "password": f"guess {n}"}))
        for n in range(20)])
    assert sorted(status for status, _, _ in statuses) == [401] * 5 + [429] * 15
    attempts = rows(api.services.database, login_attempt)
    assert [a["success"] for a in attempts if a["login"] == user["login"]] == [True] + [False] * 5


@pytest_twisted.ensureDeferred
async def test_an_attack_from_many_addresses_slows_the_login_but_never_locks_its_owner(
        api, fake_reactor):
    _, user = await api.operator(set(), password="the right one")
    login = user["login"]
    for _ in range(5):
        assert await login_status(api, login, "guess", "10.0.0.1") == 401
    assert await login_status(api, login, "the right one", "10.0.0.1") == 429
    # the owner, at another address, is not locked by the attacker's address
    assert await login_status(api, login, "the right one", "192.0.2.7") == 200
    for n in range(2, 5):  # 5 + 15 failures of the login from four addresses: slowed now
        for _ in range(5):
            assert await login_status(api, login, "guess", f"10.0.0.{n}") == 401
    (status, _, _), waited = await slowed(fake_reactor, api.call(
        "POST", "/api/v1/auth/login", json={"login": login, "password": "the right one"}))
    assert status == 200 and waited  # the owner at 127.0.0.1 waits a moment, and is in
    assert await slowed(fake_reactor, login_status(api, login, "guess", "10.0.0.9")) == (
        401, True)  # a new address of the attacker waits as well
    assert await login_status(api, login, "guess", "10.0.0.1") == 429
    assert await slowed(fake_reactor, login_status(api, "someone", "x", "10.0.0.9")) == (
        401, False)  # other logins are not slowed


@pytest_twisted.ensureDeferred
async def test_concurrent_logins_all_get_their_own_session(api):
    _, user = await api.operator({"contract.read"}, password="same for all")
    tokens = await gatherResults([ensureDeferred(api.login(user["login"], "same for all"))
                                  for _ in range(20)])
    assert len(set(tokens)) == 20
    for token in tokens:
        assert (await api.call("GET", "/api/v1/me", token=token))[0] == 200


# -- API keys --------------------------------------------------------------------------

@pytest_twisted.ensureDeferred
async def test_a_read_only_api_key_reads_contracts_and_is_refused_every_write(api):
    admin = await api.admin()
    status, role, _ = await api.call("POST", "/api/v1/roles", token=admin,
                                     json={"name": "accounting", "permissions": sorted(READ_ONLY)})
    assert status == 201
    status, created, _ = await api.call("POST", "/api/v1/api-keys", token=admin,
                                        json={"title": "1C accounting", "roles": ["accounting"]})
    assert status == 201 and created["key"].startswith("bgk_")
    key = created["key"]
    status, listed, _ = await api.call("GET", "/api/v1/api-keys", token=admin)
    assert key not in str(listed) and listed["items"][0]["title"] == "1C accounting"

    status, contract, _ = await api.call("POST", "/api/v1/contracts", token=admin,
                                         json={"title": "Ivanov I. I."})
    assert status == 201
    assert (await api.call("GET", f"/api/v1/contracts/{contract['id']}", token=key))[0] == 200
    status, found, _ = await api.call("GET", "/api/v1/contracts?q=Ivanov", token=key)
    assert [c["id"] for c in found["items"]] == [contract["id"]]
    status, me, _ = await api.call("GET", "/api/v1/me", token=key)
    assert me["kind"] == "api_key" and me["login"] == "1C accounting"

    writes = [r for r in api.api.routes
              if r.permission not in READ_ONLY and r.permission not in (PUBLIC, AUTHENTICATED)]
    assert writes
    for route in writes:
        status, body, _ = await api.call(route.method, concrete(route.path), token=key,
                                         json=SAMPLE_BODIES.get(route.path, {}))
        assert status == 403, (route.path, body)

    status, revoked, _ = await api.call("DELETE", f"/api/v1/api-keys/{created['id']}",
                                        token=admin)
    assert status == 200 and revoked["revoked_at"] and revoked["last_used_at"]
    assert (await api.call("GET", "/api/v1/me", token=key))[0] == 401


# -- contract groups -------------------------------------------------------------------

@pytest_twisted.ensureDeferred
async def test_a_contract_outside_the_callers_groups_is_not_found(api):
    admin = await api.admin()
    made = await api.north_and_south(admin)
    north, south, ours, theirs = made.north, made.south, made.ours, made.theirs
    token, _ = await api.operator({"contract.read", "contract.write", "audit.read"},
                                  groups=[north["id"]])
    assert (await api.call("GET", f"/api/v1/contracts/{ours['id']}", token=token))[0] == 200
    for method, path, body in (
            ("GET", f"/api/v1/contracts/{theirs['id']}", None),
            ("PATCH", f"/api/v1/contracts/{theirs['id']}", {"title": "mine now"}),
            ("GET", f"/api/v1/audit?contract_id={theirs['id']}", None)):
        status, answer, _ = await api.call(method, path, token=token, json=body)
        assert status == 404 and answer["error"]["code"] == "not_found"
    found = (await api.call("GET", "/api/v1/contracts", token=token))[1]
    assert [c["id"] for c in found["items"]] == [ours["id"]]
    log = (await api.call("GET", "/api/v1/audit", token=token))[1]
    assert {r["contract_id"] for r in log["items"]} == {ours["id"]}
    # a new contract lands in the caller's group; another group is refused
    mine = (await api.call("POST", "/api/v1/contracts", token=token, json={"title": "New"}))[1]
    assert mine["groups"] == [north["id"]]
    status, _, _ = await api.call("POST", "/api/v1/contracts", token=token,
                                  json={"title": "Sneaky", "groups": [south["id"]]})
    assert status == 403


@pytest_twisted.ensureDeferred
async def test_a_group_limited_change_of_groups_keeps_the_groups_it_cannot_see(api):
    admin = await api.admin()
    made = await api.north_and_south(admin)
    north, south = made.north["id"], made.south["id"]
    east = (await api.call("POST", "/api/v1/contract-groups", token=admin,
                           json={"title": "East"}))[1]["id"]
    both = (await api.call("POST", "/api/v1/contracts", token=admin, json={
        "title": "Shared", "groups": [north, south]}))[1]
    northern, _ = await api.operator({"contract.read", "contract.write"}, groups=[north, east])
    southern, _ = await api.operator({"contract.read"}, groups=[south])
    path = f"/api/v1/contracts/{both['id']}"
    for wanted, kept in (([east], [south, east]), ([north, east], [north, south, east]),
                         ([], [north, south, east])):  # [] is all of the caller's own
        status, changed, _ = await api.call("PATCH", path, token=northern,
                                            json={"groups": wanted})
        assert status == 200 and changed["groups"] == sorted(kept), changed
        assert (await api.call("GET", path, token=southern))[0] == 200
    status, changed, _ = await api.call("PATCH", path, token=admin, json={"groups": [north]})
    assert changed["groups"] == [north]  # an operator who sees every group sets them all
    assert (await api.call("GET", path, token=southern))[0] == 404


@pytest_twisted.ensureDeferred
async def test_global_directories_need_directory_write(api):
    writer, _ = await api.operator({"contract.read", "contract.write"})
    editor, _ = await api.operator({"directory.write"})
    for path, body in (("/api/v1/contract-groups", {"title": "West"}),
                       ("/api/v1/params", {"key": "street", "title": "Street", "type": "text"})):
        status, answer, _ = await api.call("POST", path, token=writer, json=body)
        assert status == 403 and answer["error"]["details"] == {"permission": "directory.write"}
        assert (await api.call("POST", path, token=editor, json=body))[0] == 201


# -- audit -----------------------------------------------------------------------------

@pytest_twisted.ensureDeferred
async def test_changes_are_audited_with_before_and_after_and_no_secrets(api):
    logged = []
    globalLogPublisher.addObserver(logged.append)
    try:
        admin = await api.admin()
        status, user, _ = await api.call("POST", "/api/v1/users", token=admin, json={
            "login": "cashier", "name": "Cashier", "password": "cashier-secret-1"})
        assert status == 201
        await api.call("PATCH", f"/api/v1/users/{user['id']}", token=admin,
                       json={"password": "cashier-secret-2", "name": "Head cashier"})
        cashier = await api.login("cashier", "cashier-secret-2")
        status, contract, _ = await api.call("POST", "/api/v1/contracts", token=admin, json={
            "title": "Petrov", "cabinet_password": "cabinet-secret"})
        await api.call("PATCH", f"/api/v1/contracts/{contract['id']}", token=admin,
                       json={"title": "Petrov P. P.", "limit": "-100.00"})
        key = (await api.call("POST", "/api/v1/api-keys", token=admin,
                              json={"title": "crm"}))[1]["key"]
        await api.call("POST", "/api/v1/auth/login",
                       json={"login": "cashier", "password": "wrong-secret-3"})
    finally:
        globalLogPublisher.removeObserver(logged.append)

    status, log, _ = await api.call("GET", f"/api/v1/audit?contract_id={contract['id']}",
                                    token=admin)
    update, create = log["items"]
    assert (create["action"], update["action"]) == ("contract.create", "contract.update")
    assert update["actor_type"] == "operator" and update["actor_name"].startswith("op")
    assert update["before"]["title"] == "Petrov" and update["after"]["title"] == "Petrov P. P."
    assert (update["before"]["limit"], update["after"]["limit"]) == ("0.00", "-100.00")
    status, log, _ = await api.call("GET", "/api/v1/audit?action=operator.update", token=admin)
    [change] = log["items"]
    assert change["before"]["name"] == "Cashier" and change["after"]["password"] == "***"

    everything = str(rows(api.services.database, audit)) + " ".join(
        str(e) for e in logged)
    for secret in ("cashier-secret-1", "cashier-secret-2", "cabinet-secret", "wrong-secret-3",
                   key, cashier, "argon2"):
        assert secret not in everything


@pytest_twisted.ensureDeferred
async def test_audit_filters_by_actor_and_dates(api, fake_reactor):
    admin_token, admin = await api.operator(set(PERMISSIONS))
    await api.call("POST", "/api/v1/contract-groups", token=admin_token, json={"title": "A"})
    fake_reactor.advance(timedelta(days=2).total_seconds())
    admin_token = await api.login(admin["login"], "correct horse")
    await api.call("POST", "/api/v1/contract-groups", token=admin_token, json={"title": "B"})
    status, log, _ = await api.call(
        "GET", f"/api/v1/audit?actor_type=operator&actor_id={admin['id']}"
        f"&action=contract_group.create&from=2026-01-16", token=admin_token)
    assert status == 200
    assert [r["after"]["title"] for r in log["items"]] == ["B"]
    status, body, _ = await api.call("GET", "/api/v1/audit?from=yesterday", token=admin_token)
    assert status == 422


@pytest_twisted.ensureDeferred
async def test_openapi_describes_every_route_with_its_permission(sqlite_api):
    token, _ = await sqlite_api.operator(set())
    status, doc, _ = await sqlite_api.call("GET", "/api/v1/openapi.json", token=token)
    assert status == 200 and doc["openapi"].startswith("3.")
    described = {(method.upper(), path, op["x-permission"])
                 for path, ops in doc["paths"].items() for method, op in ops.items()}
    declared = {(r.method, re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", r.path), r.permission)
                for r in sqlite_api.api.routes}
    assert described == declared
    login = doc["paths"]["/api/v1/auth/login"]["post"]
    assert login["security"] == []
    assert doc["components"]["schemas"]["LoginRequest"]["required"] == ["login", "password"]


@pytest_twisted.ensureDeferred
async def test_revocation_is_seen_at_once_here_and_within_the_cache_time_elsewhere(
        api, fake_reactor):
    from tests.support.api import ApiHarness
    other = ApiHarness(api.services.database, api.services.clock)  # a second bgserver
    try:
        admin = await api.admin()
        token, user = await api.operator({"contract.read"})
        assert (await other.call("GET", "/api/v1/me", token=token))[0] == 200  # now cached
        assert (await api.call("GET", "/api/v1/me", token=token))[0] == 200
        status, _, _ = await api.call("PATCH", f"/api/v1/users/{user['id']}", token=admin,
                                      json={"status": "disabled"})
        assert status == 200
        assert (await api.call("GET", "/api/v1/me", token=token))[0] == 401
        assert (await other.call("GET", "/api/v1/me", token=token))[0] == 200
        fake_reactor.advance(api.settings.auth.cache_seconds)
        assert (await other.call("GET", "/api/v1/me", token=token))[0] == 401
    finally:
        await other.aclose()
