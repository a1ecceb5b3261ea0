"""A careless or hostile client's input answers 4xx and changes nothing, on SQLite and
MariaDB: each case is refused where such values are read (the body parser, the money
type, the path and query converters, the date type), not by whichever query meets it."""

from __future__ import annotations

import re

import pytest_twisted
from sqlalchemy import func, select

from bgserver.storage.schema import contract, payment
from bgshared import wire

BIG = str(2 ** 64)
DEEP = b'{"title": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"


def count(database, table) -> int:
    return database.run_sync("count", lambda c: c.execute(
        select(func.count()).select_from(table)).scalar_one())


async def setup(api):
    admin = await api.admin()
    status, created, _ = await api.call("POST", "/api/v1/contracts", token=admin,
                                        json={"title": "Ivanov", "mode": "postpaid"})
    assert status == 201
    return admin, created["id"]


async def raw(api, method, path, token, data: bytes, headers=None):
    return await api.call(method, path, token=token, data=data,
                          headers={"Content-Type": "application/json", **(headers or {})})


@pytest_twisted.ensureDeferred
async def test_bodies_no_number_or_nesting_can_break(api):
    admin, cid = await setup(api)
    payments = f"/api/v1/contracts/{cid}/payments"
    cases = [
        ("POST", "/api/v1/contracts", DEEP, 400),
        ("POST", payments, b'{"amount": 1e309}', 422),
        ("POST", payments, b'{"amount": 123456789012345678901234567890}', 422),
        ("POST", payments, b'{"amount": 12345678901234567890123456789.5}', 422),
        ("POST", payments, b'{"amount": "123456789012345678901234567890"}', 422),
        ("POST", payments, b'{"amount": "1", "type_id": ' + BIG.encode() + b"}", 422),
        ("POST", "/api/v1/contracts", b'{"title": "x", "limit": "99999999999999999999.99"}', 422),
        ("POST", "/api/v1/contracts", b'{"title": "x", "limit": 99999999999999999999.99}', 422),
        ("POST", "/api/v1/contracts", b'{"title": "x", "groups": [' + BIG.encode() + b"]}", 422),
        ("PATCH", f"/api/v1/contracts/{cid}", b'{"limit": "-99999999999999999999.99"}', 422),
        ("PUT", f"/api/v1/contracts/{cid}/temporary-limit",
         b'{"limit": "1e400", "until": "2026-02-01"}', 422),
        ("POST", "/api/v1/payment-types", b'{"title": "x", "parent_id": ' + BIG.encode() + b"}",
         422),
        ("POST", "/api/v1/users", b'{"login": "x-y", "password": "long enough", "groups": ['
         + BIG.encode() + b"]}", 422),
    ]
    for method, path, data, expected in cases:
        status, body, _ = await raw(api, method, path, admin, data)
        assert status == expected, (method, path, data[:80], body)
        assert body["error"]["message"]
    assert count(api.services.database, payment) == 0
    assert count(api.services.database, contract) == 1


@pytest_twisted.ensureDeferred
async def test_dates_at_the_ends_of_the_calendar_are_refused(api):
    admin, cid = await setup(api)
    contract_path = f"/api/v1/contracts/{cid}"
    for far in ("0001-01-01", "9999-12-31", "1899-12-31", "3000-01-01"):
        for method, path, body in (
                ("POST", f"{contract_path}/payments", {"amount": "1.00", "date": far}),
                ("POST", f"{contract_path}/status", {"status": "suspended", "from": far}),
                ("PUT", f"{contract_path}/temporary-limit", {"limit": "-5", "until": far}),
                ("PATCH", contract_path, {"date_to": far}),
                ("POST", "/api/v1/contracts", {"title": "x", "date_from": far})):
            status, answer, _ = await api.call(method, path, token=admin, json=body)
            assert status == 422, (method, path, far, answer)
        for path in (f"{contract_path}/payments?from={far}", f"{contract_path}/charges?to={far}",
                     f"{contract_path}/balance?month={far[:7]}",
                     f"/api/v1/audit?from={far}T00:00:00%2B03:00", f"/api/v1/audit?to={far}"):
            status, answer, _ = await api.call("GET", path, token=admin)
            assert status == 422, (path, answer)
        status, answer, _ = await api.call("POST", f"/api/v1/periods/{far[:7]}/close",
                                           token=admin)
        assert status == 422, (far, answer)
    assert count(api.services.database, payment) == 0


@pytest_twisted.ensureDeferred
async def test_a_movement_dated_before_its_contract_began_is_refused(api):
    admin, cid = await setup(api)  # began today, 2026-01-15
    for kind in ("payments", "charges"):
        status, body, _ = await api.call("POST", f"/api/v1/contracts/{cid}/{kind}", token=admin,
                                         json={"amount": "1.00", "date": "2026-01-14"})
        assert status == 422 and body["error"]["details"]["date_from"] == "2026-01-15", body
    status, _, _ = await api.call("POST", f"/api/v1/contracts/{cid}/payments", token=admin,
                                  json={"amount": "1.00", "date": "2026-01-15"})
    assert status == 201
    status, balance, _ = await api.call("GET", f"/api/v1/contracts/{cid}/balance", token=admin)
    assert balance["payments"] == "1.00" and balance["charges"] == "0.00"


@pytest_twisted.ensureDeferred
async def test_whole_numbers_past_64_bits_in_every_path_and_query(api):
    admin, cid = await setup(api)
    int_routes = 0
    for route in api.api.routes:
        if "<int:" not in route.path:
            continue
        int_routes += 1
        for n in range(len(re.findall(r"<int:\w+>", route.path))):
            ints = iter(range(len(re.findall(r"<int:\w+>", route.path))))
            path = re.sub(r"<int:\w+>", lambda _: BIG if next(ints) == n else str(cid),
                          route.path)
            path = re.sub(r"<\w+>", "x", path)
            status, body, _ = await api.call(route.method, path, token=admin, json={})
            assert status in (404, 405), (route.method, path, body)  # no rule matches
    assert int_routes >= 10
    for path in ("/api/v1/contracts", f"/api/v1/contracts/{cid}/payments",
                 f"/api/v1/contracts/{cid}/charges", "/api/v1/audit"):
        for name in ("cursor", "limit", "contract_id", "actor_id"):
            status, body, _ = await api.call("GET", f"{path}?{name}={BIG}", token=admin)
            assert status in (200, 422), (path, name, body)  # 200: a name the route ignores
            if name in ("cursor", "limit"):
                assert status == 422 and str(wire.MAX_INT) in body["error"]["message"], body
        status, _, _ = await api.call("GET", f"{path}?cursor={wire.MAX_INT}", token=admin)
        assert status == 200


@pytest_twisted.ensureDeferred
async def test_an_idempotency_key_that_is_not_utf8_is_refused(api):
    admin, cid = await setup(api)
    status, body, _ = await api.call(
        "POST", f"/api/v1/contracts/{cid}/payments", token=admin, json={"amount": "1.00"},
        headers={"Idempotency-Key": b"\xff\xfe-key"})
    assert status == 400 and "Idempotency-Key" in body["error"]["message"], body
    assert count(api.services.database, payment) == 0
