"""Rules of the money that a plausible slip in the code would break quietly: whose an
Idempotency-Key is and what it covers, whose payment may be deleted, the edges of a
temporary limit, and where the billing day is cut. Each test here failed with that slip
made on purpose; on SQLite and MariaDB."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest_twisted
from sqlalchemy import select

from bgserver.storage.schema import payment
from bgshared.api.permissions import PERMISSIONS
from tests.integration.test_money import count, desk


@pytest_twisted.ensureDeferred
async def test_an_idempotency_key_covers_its_contract(api):
    d = await desk(api, mode="postpaid")
    status, other, _ = await api.call("POST", "/api/v1/contracts", token=d.token,
                                      json={"title": "Petrov", "mode": "postpaid"})
    assert status == 201
    key = {"Idempotency-Key": "bank-2026-01-15/1"}
    status, first, _ = await d.call("POST", "/payments", {"amount": "10.00"}, key)
    assert status == 201
    status, body, headers = await api.call(
        "POST", f"/api/v1/contracts/{other['id']}/payments", token=d.token,
        json={"amount": "10.00"}, headers=key)  # the same key and body, another contract
    assert status == 409 and body["error"]["code"] == "conflict", body
    assert headers.getRawHeaders("idempotent-replayed") is None
    database = api.services.database
    assert count(database, payment, payment.c.contract_id == other["id"]) == 0
    assert count(database, payment, payment.c.contract_id == d.contract["id"]) == 1


@pytest_twisted.ensureDeferred
async def test_each_caller_has_its_own_idempotency_keys(api):
    d = await desk(api, mode="postpaid")
    key = {"Idempotency-Key": "1"}  # a key two systems may well both use
    status, first, _ = await d.call("POST", "/payments", {"amount": "10.00"}, key)
    assert status == 201
    cashier, _ = await api.operator({"contract.read", "payment.create"})
    status, second, headers = await d.call("POST", "/payments", {"amount": "10.00"}, key,
                                           token=cashier)
    assert status == 201 and headers.getRawHeaders("idempotent-replayed") is None
    assert second["id"] != first["id"] and second["actor_name"] != first["actor_name"]
    status, again, headers = await d.call("POST", "/payments", {"amount": "10.00"}, key,
                                          token=cashier)
    assert again == second and headers.getRawHeaders("idempotent-replayed") == ["true"]
    assert (await d.balance())["payments"] == "20.00"


@pytest_twisted.ensureDeferred
async def test_a_payment_of_a_contract_outside_the_callers_groups_cannot_be_deleted(api):
    d = await desk(api, mode="postpaid")
    paid = await d.pay("10.00")
    status, group, _ = await api.call("POST", "/api/v1/contract-groups", token=d.token,
                                      json={"title": "Elsewhere"})
    outsider, _ = await api.operator(set(PERMISSIONS), groups=[group["id"]])
    status, body, _ = await d.call("DELETE", f"/payments/{paid['id']}", {"reason": "mine?"},
                                   token=outsider)
    assert status == 404 and body["error"]["code"] == "not_found", body
    row = api.services.database.run_sync("row", lambda c: c.execute(
        select(payment.c.deleted_at).where(payment.c.id == paid["id"])).one())
    assert row.deleted_at is None
    assert (await d.balance())["payments"] == "10.00"


@pytest_twisted.ensureDeferred
async def test_a_temporary_limit_holds_through_its_last_day_and_at_its_exact_amount(
        api, fake_reactor):
    d = await desk(api)  # prepaid, limit 0.00
    await d.charge("50.00")
    assert await d.status() == "blocked"
    status, _, _ = await d.call("PUT", "/temporary-limit",
                                {"limit": "-100.00", "until": "2026-01-18"})
    assert status == 200 and await d.status() == "active"
    await d.charge("50.00")
    assert (await d.balance())["balance"] == "-100.00"
    assert await d.status() == "active"  # exactly at the temporary limit is not below it
    fake_reactor.advance(3 * 86400)  # 2026-01-18, its last day
    d.token = await api.admin()
    await d.pay("0.01")
    await d.charge("0.01")  # a movement on the last day: the limit still holds
    assert (await d.balance())["balance"] == "-100.00"
    assert await d.status() == "active"
    await d.charge("0.01")
    assert await d.status() == "blocked"  # below it, even on its last day


@pytest_twisted.ensureDeferred
async def test_the_billing_day_is_cut_in_the_billing_time_zone(api, fake_reactor):
    d = await desk(api, mode="postpaid")
    evening = datetime(2026, 1, 31, 21, 30, tzinfo=timezone.utc)  # 00:30 on 1 Feb in Moscow
    fake_reactor.advance(evening.timestamp() - fake_reactor.seconds())
    d.token = await api.admin()
    paid = await d.pay("10.00")
    assert paid["date"] == "2026-02-01"
    charged = await d.charge("3.00", date="2026-02-01")  # today, not the future
    assert charged["date"] == "2026-02-01"
    january, february = await d.balance("2026-01"), await d.balance("2026-02")
    assert (january["payments"], january["charges"], january["outgoing"]) == (
        "0.00", "0.00", "0.00")
    assert (february["payments"], february["charges"], february["outgoing"]) == (
        "10.00", "3.00", "7.00")
    assert (await d.balance())["month"] == "2026-02"
