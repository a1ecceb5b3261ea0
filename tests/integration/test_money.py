"""Payments, charges, the balance, periods, limits and statuses through the API, on SQLite
and MariaDB. Every amount is checked to the kopeck with exact Decimals."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import pytest_twisted
from sqlalchemy import func, select
from twisted.internet.defer import ensureDeferred, gatherResults

from bgserver.billing import ledger, statuses
from bgserver.storage.schema import audit, outbox, payment
from bgshared import wire
from bgshared.api.permissions import PERMISSIONS
from tests.support.spies import count_units

D = Decimal


def count(database, table, *where):
    return database.run_sync("count", lambda c: c.execute(
        select(func.count()).select_from(table).where(*where)).scalar_one())


class Desk:
    """An admin at the API, with a contract to work on."""

    def __init__(self, api, token, contract):
        self.api, self.token, self.contract = api, token, contract
        self.base = f"/api/v1/contracts/{contract['id']}"

    async def call(self, method, path, json=None, headers=None, token=None):
        return await self.api.call(method, self.base + path, token=token or self.token,
                                   json=json, headers=headers)

    async def pay(self, amount, **extra):
        status, body, headers = await self.call("POST", "/payments",
                                                json={"amount": amount, **extra})
        assert status == 201, body
        return body

    async def charge(self, amount, **extra):
        status, body, _ = await self.call("POST", "/charges", json={"amount": amount, **extra})
        assert status == 201, body
        return body

    async def balance(self, month=None):
        status, body, _ = await self.call("GET", "/balance" + (f"?month={month}" if month else ""))
        assert status == 200, body
        return body

    async def status(self):
        status, body, _ = await self.api.call("GET", self.base, token=self.token)
        return body["status"]


async def desk(api, **contract):
    token = await api.admin()
    status, created, _ = await api.call("POST", "/api/v1/contracts", token=token,
                                        json={"title": "Ivanov", **contract})
    assert status == 201
    return Desk(api, token, created)


@pytest_twisted.ensureDeferred
async def test_a_payment_moves_the_balance_with_its_month_audit_and_events(api):
    d = await desk(api, mode="postpaid")
    paid = await d.pay("100.10", comment="cash desk 1")
    assert paid["amount"] == "100.10" and paid["type_id"] == 1 and paid["date"] == "2026-01-15"
    assert paid["actor_type"] == "operator" and paid["comment"] == "cash desk 1"
    await d.charge("30.05")
    assert await d.balance() == {"month": "2026-01", "incoming": "0.00", "payments": "100.10",
                                 "charges": "30.05", "usage": "0.00", "outgoing": "70.05",
                                 "balance": "70.05"}
    status, contract, _ = await d.call("GET", "")
    assert contract["balance"] == "70.05"
    database = api.services.database
    types = database.run_sync("events", lambda c: sorted(c.execute(
        select(outbox.c.type).where(outbox.c.contract_id == d.contract["id"])).scalars()))
    assert types == ["balance.changed", "balance.changed", "charge.created", "contract.created",
                     "payment.created"]
    assert count(database, audit, audit.c.action == "payment.create") == 1


@pytest_twisted.ensureDeferred
async def test_back_dated_movements_update_their_month_and_the_months_after(api, fake_reactor):
    d = await desk(api, mode="postpaid")
    fake_reactor.advance(timedelta(days=60).total_seconds())  # 2026-03-16
    d.token = await api.admin()
    await d.pay("10.00")
    await d.pay("5.00", date="2026-01-20")
    await d.charge("2.50", date="2026-02-01")
    jan, feb, mar = [await d.balance(m) for m in ("2026-01", "2026-02", "2026-03")]
    assert (jan["incoming"], jan["payments"], jan["outgoing"]) == ("0.00", "5.00", "5.00")
    assert (feb["incoming"], feb["charges"], feb["outgoing"]) == ("5.00", "2.50", "2.50")
    assert (mar["incoming"], mar["payments"], mar["outgoing"]) == ("2.50", "10.00", "12.50")
    assert (await d.balance("2025-12"))["outgoing"] == "0.00"
    assert (await d.balance("2026-06"))["incoming"] == "12.50"  # carried, no movements


@pytest_twisted.ensureDeferred
async def test_idempotency_key_gives_the_same_payment_never_a_second(api):
    d = await desk(api)
    key = {"Idempotency-Key": "bank-batch-17/line-3"}
    status, first, headers = await d.call("POST", "/payments", {"amount": "50.00"}, key)
    assert status == 201 and headers.getRawHeaders("idempotent-replayed") is None
    status, again, headers = await d.call("POST", "/payments", {"amount": "50.00"}, key)
    assert status == 201 and again == first
    assert headers.getRawHeaders("idempotent-replayed") == ["true"]
    status, body, _ = await d.call("POST", "/payments", {"amount": "51.00"}, key)
    assert status == 409 and body["error"]["code"] == "conflict"
    assert (await d.balance())["payments"] == "50.00"


@pytest_twisted.ensureDeferred
async def test_external_ids_are_unique_per_payment_type(api):
    d = await desk(api)
    await d.pay("1.00", external_id="sber-991", type_id=2)
    status, body, _ = await d.call("POST", "/payments",
                                   {"amount": "1.00", "external_id": "sber-991", "type_id": 2})
    assert status == 409 and body["error"]["details"] == {"external_id": "sber-991"}
    await d.pay("1.00", external_id="sber-991", type_id=3)
    assert (await d.balance())["payments"] == "2.00"


@pytest.mark.parametrize("body, status", [
    ({"amount": "0"}, 422), ({"amount": "-5.00"}, 422), ({"amount": "1.001"}, 422),
    ({"amount": "abc"}, 422), ({"amount": "1e3"}, 422), ({}, 422), ({"amount": None}, 422),
    ({"amount": "1000000000000.00"}, 422), ({"amount": "5", "type_id": 999}, 422),
    ({"amount": "5", "date": "2026-13-01"}, 422), ({"amount": "5", "date": "2026-01-16"}, 422),
    ({"amount": "5", "colour": "red"}, 422), ({"amount": "5", "comment": "x" * 5000}, 422),
])
@pytest_twisted.ensureDeferred
async def test_bad_payments_are_refused_and_change_nothing(api, body, status):
    d = await desk(api)
    got, answer, _ = await d.call("POST", "/payments", body)
    assert got == status, answer
    assert set(answer["error"]) == {"code", "message", "details"}
    assert count(api.services.database, payment) == 0
    assert (await d.balance())["outgoing"] == "0.00"


@pytest_twisted.ensureDeferred
async def test_malformed_and_oversized_bodies_are_refused(api):
    d = await desk(api)
    for data, status in ((b'{"amount": "5"', 400), (b'"5"', 400), (b"x" * 2_000_000, 413)):
        got, answer, _ = await api.call("POST", d.base + "/payments", token=d.token, data=data)
        assert got == status and answer["error"]["code"]
    assert count(api.services.database, payment) == 0


@pytest_twisted.ensureDeferred
async def test_a_deleted_payment_is_kept_with_who_and_why(api):
    d = await desk(api)
    first = await d.pay("40.00")
    await d.pay("2.00")
    status, deleted, _ = await d.call("DELETE", f"/payments/{first['id']}",
                                      {"reason": "wrong contract"})
    assert status == 200
    assert deleted["deleted_at"] and deleted["delete_reason"] == "wrong contract"
    assert deleted["deleted_by_actor_type"] == "operator"
    assert (await d.balance())["payments"] == "2.00"
    [event] = api.services.database.run_sync("events", lambda c: c.execute(
        select(outbox.c.payload).where(outbox.c.type == "payment.deleted")).scalars().all())
    assert '"reason":"wrong contract"' in event and '"amount":"40.00"' in event
    status, _, _ = await d.call("DELETE", f"/payments/{first['id']}", {"reason": "again"})
    assert status == 409
    assert (await d.call("DELETE", f"/payments/{first['id']}", {}))[0] == 422
    listed = (await d.call("GET", "/payments"))[1]["items"]
    assert [p["amount"] for p in listed] == ["2.00"]
    listed = (await d.call("GET", "/payments?deleted=true"))[1]["items"]
    assert [p["amount"] for p in listed] == ["40.00", "2.00"]


@pytest_twisted.ensureDeferred
async def test_a_closed_month_refuses_back_dated_movements(api, fake_reactor):
    d = await desk(api, mode="postpaid", date_from="2025-12-01")
    old = await d.pay("10.00")
    fake_reactor.advance(timedelta(days=31).total_seconds())  # 2026-02-15
    d.token = await api.admin()
    status, body, _ = await api.call("POST", "/api/v1/periods/2026-02/close", token=d.token)
    assert status == 422  # the current month cannot be closed
    status, body, _ = await api.call("POST", "/api/v1/periods/2026-01/close", token=d.token)
    assert status == 200 and body["month"] == "2026-01"
    limited, _ = await api.operator(set(PERMISSIONS) - {"period.edit_closed"})
    for method, path, json in (("POST", "/payments", {"amount": "1.00", "date": "2026-01-31"}),
                               ("POST", "/charges", {"amount": "1.00", "date": "2025-12-01"}),
                               ("DELETE", f"/payments/{old['id']}", {"reason": "late"})):
        status, body, _ = await d.call(method, path, json, token=limited)
        assert status == 409 and body["error"]["details"]["month"] in ("2026-01", "2025-12")
    status, _, _ = await d.call("POST", "/payments", {"amount": "1.00", "date": "2026-02-01"},
                                token=limited)
    assert status == 201  # the open month still takes them
    await d.pay("3.00", date="2026-01-05")  # period.edit_closed may
    assert (await d.balance("2026-01"))["payments"] == "13.00"
    assert (await d.balance("2026-02"))["incoming"] == "13.00"


@pytest_twisted.ensureDeferred
async def test_prepaid_contract_is_blocked_below_its_limit_and_freed_by_payment(api):
    d = await desk(api, limit="-10.00")
    await d.charge("10.00")
    assert await d.status() == "active"  # at the limit is not below it
    await d.charge("0.01")
    assert await d.status() == "blocked"
    await d.pay("0.01")
    assert await d.status() == "active"
    await d.charge("25.00")
    await d.pay("5.00")
    assert await d.status() == "blocked"
    await d.pay("20.00")
    assert await d.status() == "active"
    periods = (await d.call("GET", "/statuses"))[1]["items"]
    assert [(p["status"], p["reason"]) for p in periods] == [
        ("active", None), ("blocked", "balance"), ("active", None), ("blocked", "balance"),
        ("active", None)]
    assert periods[1]["actor_name"] == "limits"
    changes = api.services.database.run_sync("events", lambda c: c.execute(
        select(outbox.c.payload).where(outbox.c.type == "contract.status_changed")).scalars().all())
    assert len(changes) == 4


@pytest_twisted.ensureDeferred
async def test_postpaid_is_never_blocked_by_balance(api):
    d = await desk(api, mode="postpaid")
    await d.charge("1000.00")
    assert await d.status() == "active"
    status, _, _ = await d.call("PATCH", "", {"mode": "prepaid"})
    assert status == 200 and await d.status() == "blocked"
    status, _, _ = await d.call("PATCH", "", {"limit": "-1000.00"})
    assert await d.status() == "active"


@pytest_twisted.ensureDeferred
async def test_an_operator_block_is_not_lifted_by_a_payment(api):
    d = await desk(api)
    status, body, _ = await d.call("POST", "/status", {"status": "blocked", "comment": "fraud"})
    assert status == 200 and body["reason"] == "operator"
    await d.pay("100.00")
    assert await d.status() == "blocked"


@pytest_twisted.ensureDeferred
async def test_temporary_limit_lifts_a_block_until_its_day(api, fake_reactor):
    d = await desk(api)
    await d.charge("50.00")
    assert await d.status() == "blocked"
    status, body, _ = await d.call("PUT", "/temporary-limit",
                                   {"limit": "-100.00", "until": "2026-01-18"})
    assert status == 200 and await d.status() == "active"
    promised = {"limit": "-100.00", "until": "2026-01-18"}
    assert (await d.call("GET", ""))[1]["temporary_limit"] == promised
    database, clock = api.services.database, api.services.clock
    fake_reactor.advance(timedelta(days=3).total_seconds())  # the 18th: still holds
    assert database.run_sync("expire", ledger.expire_temporary_limits, clock.today(),
                             clock.now()) == 0
    fake_reactor.advance(timedelta(days=1).total_seconds())
    assert database.run_sync("expire", ledger.expire_temporary_limits, clock.today(),
                             clock.now()) == 1
    d.token = await api.admin()
    assert await d.status() == "blocked"
    assert (await d.call("GET", ""))[1]["temporary_limit"] is None
    changes = database.run_sync("events", lambda c: c.execute(
        select(outbox.c.payload).where(outbox.c.type == "contract.changed",
                                       outbox.c.contract_id == d.contract["id"])).scalars().all())
    assert [wire.loads(p)["data"] for p in changes] == [{"fields": ["temporary_limit"]}] * 2
    status, _, _ = await d.call("PUT", "/temporary-limit",
                                {"limit": "-100.00", "until": "2026-01-01"})
    assert status == 422


@pytest_twisted.ensureDeferred
async def test_status_changes_now_and_scheduled(api, fake_reactor):
    d = await desk(api)
    status, body, _ = await d.call("POST", "/status", {"status": "suspended",
                                                       "comment": "holiday"})
    assert status == 200 and body["applied"] is True
    assert await d.status() == "suspended"
    assert (await d.call("POST", "/status", {"status": "suspended"}))[0] == 409
    status, body, _ = await d.call("POST", "/status", {"status": "active",
                                                       "from": "2026-02-01"})
    assert status == 202 and body["applied"] is False
    database, clock = api.services.database, api.services.clock
    assert database.run_sync("apply", statuses.apply_due, clock.today(), clock.now()) == 0
    assert await d.status() == "suspended"
    fake_reactor.advance(timedelta(days=17).total_seconds())  # 2026-02-01 12:00 UTC
    assert database.run_sync("apply", statuses.apply_due, clock.today(), clock.now()) == 1
    assert database.run_sync("apply", statuses.apply_due, clock.today(), clock.now()) == 0
    d.token = await api.admin()
    assert await d.status() == "active"
    periods = (await d.call("GET", "/statuses"))[1]["items"]
    assert [(p["status"], str(p["date_from"]), p["date_to"] and str(p["date_to"]))
            for p in periods] == [("active", "2026-01-15", "2026-01-14"),
                                  ("suspended", "2026-01-15", "2026-01-31"),
                                  ("active", "2026-02-01", None)]
    assert (await d.call("POST", "/status", {"status": "frozen"}))[0] == 422


@pytest_twisted.ensureDeferred
async def test_money_of_a_contract_outside_the_callers_groups_is_not_found(api):
    d = await desk(api)
    status, group, _ = await api.call("POST", "/api/v1/contract-groups", token=d.token,
                                      json={"title": "Elsewhere"})
    token, _ = await api.operator(set(PERMISSIONS), groups=[group["id"]])
    for method, path, json in (("GET", "/payments", None), ("POST", "/payments", {"amount": "1"}),
                               ("GET", "/balance", None), ("POST", "/charges", {"amount": "1"}),
                               ("POST", "/status", {"status": "closed"})):
        status, body, _ = await d.call(method, path, json, token=token)
        assert status == 404, (path, body)


@pytest_twisted.ensureDeferred
async def test_fifty_concurrent_payments_to_one_contract_add_up_exactly(api):
    d = await desk(api)
    amounts = [D(n).scaleb(-2) + D("0.01") for n in range(1, 51)]  # 0.02 .. 0.51
    results = await gatherResults([ensureDeferred(d.call("POST", "/payments",
                                                         {"amount": str(a)}))
                                   for a in amounts])
    assert [r[0] for r in results] == [201] * 50
    total = sum(amounts, D("0.00"))
    assert (await d.balance())["payments"] == f"{total}"
    assert (await d.call("GET", ""))[1]["balance"] == f"{total}"


@pytest_twisted.ensureDeferred
async def test_twenty_concurrent_posts_with_one_key_make_one_payment(api):
    d = await desk(api)
    headers = {"Idempotency-Key": "retry-storm"}
    results = await gatherResults([ensureDeferred(d.call("POST", "/payments",
                                                         {"amount": "7.77"}, headers))
                                   for _ in range(20)])
    assert [r[0] for r in results] == [201] * 20
    assert len({r[1]["id"] for r in results}) == 1
    assert count(api.services.database, payment) == 1
    assert (await d.balance())["payments"] == "7.77"


@pytest_twisted.ensureDeferred
async def test_payments_that_come_together_are_booked_together_each_with_its_own_answer(
        api, fake_reactor, monkeypatch):
    d = await desk(api, mode="postpaid", date_from="2026-01-01")
    fake_reactor.advance(timedelta(days=31).total_seconds())  # 2026-02-15
    d.token = await api.admin()
    other = await desk(api, mode="postpaid", date_from="2026-02-01")
    await d.pay("1.00", date="2026-01-10")
    await d.pay("2.00", external_id="bank-1")
    status, _, _ = await api.call("POST", "/api/v1/periods/2026-01/close", token=d.token)
    assert status == 200
    limited, _ = await api.operator(set(PERMISSIONS) - {"period.edit_closed"})
    await d.call("GET", "/balance", token=limited)  # its caller is known from now on
    units = count_units(api.services.database, monkeypatch)
    key = {"Idempotency-Key": "k-1"}
    asked = [
        (d, {"amount": "10.00"}, None, None),
        (other, {"amount": "20.00"}, None, None),
        (d, {"amount": "0.01", "type_id": 999}, None, None),            # unknown type
        (d, {"amount": "3.00", "external_id": "bank-1"}, None, None),   # booked already
        (d, {"amount": "4.00", "date": "2026-01-31"}, None, limited),   # closed month
        (other, {"amount": "5.00", "date": "2026-02-01"}, None, None),
        (d, {"amount": "6.00"}, key, None),
        (d, {"amount": "6.00"}, key, None),                             # the same again
        (other, {"amount": "0.50"}, None, None),
    ]
    results = await gatherResults([ensureDeferred(desk_.call(
        "POST", "/payments", body, headers, token=token))
        for desk_, body, headers, token in asked])
    statuses = [status for status, _, _ in results]
    assert statuses == [201, 201, 422, 409, 409, 201, 201, 201, 201], results
    assert results[6][1] == results[7][1]  # one payment for the key, answered twice
    assert sorted(str(r[2].getRawHeaders("idempotent-replayed")) for r in results[6:8]) == [
        "None", "['true']"]
    assert results[4][1]["error"]["details"] == {"month": "2026-01"}
    # fewer units than requests: those that came while one ran went together (but the
    # two with one key never share a unit, so that the second finds the first's payment)
    assert 2 <= units.count("create_payments") < len(asked)
    stored = {p["id"]: (p["contract_id"], p["amount"]) for desk_ in (d, other)
              for p in (await desk_.call("GET", "/payments"))[1]["items"]}
    for status, body, _ in results:  # each answer names its own payment
        if status == 201:
            assert stored[body["id"]] == (body["contract_id"], body["amount"])
    feb = await d.balance("2026-02")
    assert (feb["incoming"], feb["payments"], feb["outgoing"], feb["balance"]) == (
        "1.00", "18.00", "19.00", "19.00")
    status, paid, _ = await other.call("GET", "/payments")
    assert sorted(p["amount"] for p in paid["items"]) == ["0.50", "20.00", "5.00"]
    assert (await other.balance())["balance"] == "25.50"
    database = api.services.database
    assert count(database, outbox, outbox.c.type == "payment.created") == 7
    assert count(database, audit, audit.c.action == "payment.create") == 7


@pytest_twisted.ensureDeferred
async def test_a_unit_that_races_another_server_books_each_payment_on_its_own(
        api, monkeypatch):
    d = await desk(api, mode="postpaid")
    await d.pay("2.00", external_id="bank-7")
    # as if another server booked bank-7 between this unit's look and its insert
    monkeypatch.setattr("bgserver.storage.money.booked_external_ids", lambda *a: set())
    results = await gatherResults([ensureDeferred(d.call("POST", "/payments", body))
                                   for body in ({"amount": "1.00"},
                                                {"amount": "3.00", "external_id": "bank-7"},
                                                {"amount": "4.00"}, {"amount": "5.00"})])
    assert [r[0] for r in results] == [201, 409, 201, 201]
    assert results[1][1]["error"]["details"] == {"external_id": "bank-7"}
    assert (await d.balance())["payments"] == "12.00"
    assert count(api.services.database, payment) == 4


@pytest_twisted.ensureDeferred
async def test_a_charge_of_a_refund_type_gives_money_back(api):
    d = await desk(api, mode="postpaid")
    await d.charge("300.00")
    refund = await d.charge("120.50", type_id=3)  # the built-in type "Refund"
    assert refund["amount"] == "-120.50"
    month = await d.balance()
    assert (month["charges"], month["outgoing"], month["balance"]) == (
        "179.50", "-179.50", "-179.50")
