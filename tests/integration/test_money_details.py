"""The money's answers, events and limits to the field, the kopeck and the day, on SQLite
and MariaDB: what the broader tests in test_money.py leave loose (found by mutation
testing, scripts/mutate)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest_twisted
from sqlalchemy import select
from twisted.internet.defer import ensureDeferred, gatherResults

from bgserver.storage.schema import outbox
from bgshared import wire
from bgshared.api.permissions import PERMISSIONS
from tests.integration.test_money import desk
from tests.support.spies import count_units

#: What a payment's answer carries: its columns less the idempotency bookkeeping.
PAYMENT_FIELDS = {"id", "contract_id", "amount", "type_id", "date", "comment", "created_at",
                  "actor_type", "actor_id", "actor_name", "external_id", "deleted_at",
                  "deleted_by_actor_type", "deleted_by_actor_id", "deleted_by_actor_name",
                  "delete_reason"}
CHARGE_FIELDS = {"id", "contract_id", "amount", "type_id", "date", "comment", "created_at",
                 "actor_type", "actor_id", "actor_name", "external_id", "module_id",
                 "service_id"}


def events(api, contract_id, *types):
    """The ``data`` of the contract's events of these types, oldest first."""
    return [(kind, wire.loads(payload)["data"]) for kind, payload in
            api.services.database.run_sync("events", lambda c: c.execute(
                select(outbox.c.type, outbox.c.payload).where(
                    outbox.c.contract_id == contract_id, outbox.c.type.in_(types))
                .order_by(outbox.c.id)).all())]


@pytest_twisted.ensureDeferred
async def test_a_movement_answers_its_columns_and_never_its_idempotency_key(api):
    d = await desk(api, mode="postpaid")
    status, paid, _ = await d.call("POST", "/payments", {"amount": "12.34"},
                                   {"Idempotency-Key": "till-4/77"})
    assert status == 201 and set(paid) == PAYMENT_FIELDS
    assert (paid["comment"], paid["external_id"], paid["deleted_at"]) == ("", None, None)
    charged = await d.charge("1.00")
    assert set(charged) == CHARGE_FIELDS and charged["comment"] == ""
    listed = (await d.call("GET", "/payments"))[1]["items"]
    assert [set(p) for p in listed] == [PAYMENT_FIELDS]
    status, deleted, _ = await d.call("DELETE", f"/payments/{paid['id']}", {"reason": "typo"})
    assert status == 200 and set(deleted) == PAYMENT_FIELDS


@pytest_twisted.ensureDeferred
async def test_each_movement_announces_itself_and_the_balance_to_the_kopeck(api, fake_reactor):
    d = await desk(api, mode="postpaid")
    fake_reactor.advance(timedelta(days=31).total_seconds())  # 2026-02-15
    d.token = await api.admin()
    paid = await d.pay("100.10", type_id=2, external_id="bank-5")
    charged = await d.charge("30.05", date="2026-01-31")  # back-dated into January
    status, _, _ = await d.call("DELETE", f"/payments/{paid['id']}", {"reason": "bounced"})
    assert status == 200
    assert events(api, d.contract["id"], "payment.created", "charge.created",
                  "balance.changed", "payment.deleted") == [
        ("balance.changed", {"balance": "100.10", "change": "100.10", "month": "2026-02"}),
        ("payment.created", {"payment_id": paid["id"], "amount": "100.10",
                             "date": "2026-02-15", "type_id": 2, "balance": "100.10"}),
        ("balance.changed", {"balance": "70.05", "change": "-30.05", "month": "2026-01"}),
        ("charge.created", {"charge_id": charged["id"], "amount": "30.05",
                            "date": "2026-01-31", "type_id": 1, "balance": "70.05"}),
        ("balance.changed", {"balance": "-30.05", "change": "-100.10", "month": "2026-02"}),
        ("payment.deleted", {"payment_id": paid["id"], "amount": "100.10",
                             "reason": "bounced"}),
    ]


@pytest_twisted.ensureDeferred
async def test_a_temporary_limit_holds_through_its_last_day(api, fake_reactor):
    d = await desk(api, limit="0.00")
    status, _, _ = await d.call("PUT", "/temporary-limit",
                                {"limit": "-100.00", "until": "2026-01-16"})
    assert status == 200
    await d.charge("60.00")
    assert await d.status() == "active"
    fake_reactor.advance(timedelta(days=1).total_seconds())  # the 16th, its last day
    d.token = await api.admin()
    await d.charge("40.00")  # exactly at the temporary limit: not below it
    assert await d.status() == "active"
    await d.charge("0.01")
    assert await d.status() == "blocked"
    await d.pay("0.01")
    assert await d.status() == "active"
    fake_reactor.advance(timedelta(days=1).total_seconds())  # the 17th: run out
    d.token = await api.admin()
    await d.pay("0.01")  # the contract's own limit again, not yet expired by the scheduler
    assert await d.status() == "blocked"


@pytest_twisted.ensureDeferred
async def test_a_temporary_limit_above_the_contracts_own_changes_nothing(api):
    d = await desk(api, limit="-50.00")
    status, _, _ = await d.call("PUT", "/temporary-limit",
                                {"limit": "10.00", "until": "2026-01-31"})
    assert status == 200
    await d.charge("50.00")  # at its own limit: the promise cannot tighten it
    assert await d.status() == "active"
    await d.charge("0.01")
    assert await d.status() == "blocked"


@pytest_twisted.ensureDeferred
async def test_a_back_dated_month_starts_from_the_latest_month_before_it(api, fake_reactor):
    d = await desk(api, mode="postpaid", date_from="2025-11-01")
    fake_reactor.advance(timedelta(days=60).total_seconds())  # 2026-03-16
    d.token = await api.admin()
    await d.pay("1.00")
    await d.pay("2.00", date="2025-12-10")
    await d.pay("4.00", date="2025-11-05")  # November's row comes after December's
    await d.charge("0.50", date="2026-02-01")  # February had no row: December carries
    months = {m: await d.balance(m) for m in ("2025-11", "2025-12", "2026-01", "2026-02",
                                               "2026-03")}
    assert [(b["incoming"], b["outgoing"]) for b in months.values()] == [
        ("0.00", "4.00"), ("4.00", "6.00"), ("6.00", "6.00"), ("6.00", "5.50"),
        ("5.50", "6.50")]
    assert (months["2026-02"]["charges"], months["2026-03"]["balance"]) == ("0.50", "6.50")


@pytest_twisted.ensureDeferred
async def test_movements_are_listed_by_day_from_and_to_inclusive_a_page_at_a_time(
        api, fake_reactor):
    d = await desk(api, mode="postpaid")
    fake_reactor.advance(timedelta(days=10).total_seconds())  # 2026-01-25
    d.token = await api.admin()
    for day in ("2026-01-15", "2026-01-16", "2026-01-17", "2026-01-18"):
        await d.charge("1.00", date=day, comment=day)

    async def days(query):
        status, body, _ = await d.call("GET", "/charges?" + query)
        assert status == 200, body
        return [c["comment"] for c in body["items"]], body["next_cursor"]

    assert await days("from=2026-01-16&to=2026-01-17") == (["2026-01-16", "2026-01-17"], None)
    assert await days("to=2026-01-15") == (["2026-01-15"], None)
    assert await days("from=2026-01-18") == (["2026-01-18"], None)
    first, cursor = await days("limit=2")
    assert first == ["2026-01-15", "2026-01-16"] and cursor
    assert await days(f"limit=2&cursor={cursor}") == (["2026-01-17", "2026-01-18"], None)


@pytest_twisted.ensureDeferred
async def test_a_month_is_closed_once_with_every_month_before_it(api, fake_reactor):
    fake_reactor.advance(timedelta(days=31).total_seconds())  # 2026-02-15
    token, admin = await api.operator(set(PERMISSIONS))

    async def close(month):
        return (await api.call("POST", f"/api/v1/periods/{month}/close", token=token))[:2]

    status, body = await close("2026-01")
    assert status == 200 and body["month"] == "2026-01" and body["closed_by"] == admin["login"]
    for month in ("2026-01", "2025-12"):
        status, body = await close(month)
        assert status == 409 and body["error"]["code"] == "conflict", month
    status, body, _ = await api.call("GET", "/api/v1/periods", token=token)
    assert [(p["month"], p["closed_by"]) for p in body["items"]] == [("2026-01", admin["login"])]


@pytest_twisted.ensureDeferred
async def test_an_idempotency_key_is_one_to_two_hundred_characters(api):
    d = await desk(api)
    status, _, _ = await d.call("POST", "/payments", {"amount": "1.00"},
                                {"Idempotency-Key": "k" * 200})
    assert status == 201
    status, body, _ = await d.call("POST", "/payments", {"amount": "1.00"},
                                   {"Idempotency-Key": "k" * 201})
    assert status == 422 and body["error"]["code"] == "validation_failed"
    assert (await d.balance())["payments"] == "1.00"


@pytest_twisted.ensureDeferred
async def test_every_change_of_money_is_audited_with_its_contract_before_and_after(
        api, fake_reactor):
    d = await desk(api, mode="postpaid")
    paid = await d.pay("10.00", comment="till 2")
    charged = await d.charge("3.00")
    status, _, _ = await d.call("DELETE", f"/payments/{paid['id']}", {"reason": "twice"})
    assert status == 200
    limit = {"limit": "-20.00", "until": "2026-01-20"}
    assert (await d.call("PUT", "/temporary-limit", limit))[0] == 200
    assert (await d.call("PUT", "/temporary-limit", {**limit, "limit": "-30.00"}))[0] == 200
    status, log, _ = await api.call("GET", f"/api/v1/audit?contract_id={d.contract['id']}",
                                    token=d.token)
    entries = [(e["action"], e["object_type"], e["object_id"], e["contract_id"], e["before"],
                e["after"]) for e in reversed(log["items"])]
    deleted = (await d.call("GET", "/payments?deleted=true"))[1]["items"][0]
    assert entries[1:] == [
        ("payment.create", "payment", str(paid["id"]), d.contract["id"], None, paid),
        ("charge.create", "charge", str(charged["id"]), d.contract["id"], None, charged),
        ("payment.delete", "payment", str(paid["id"]), d.contract["id"], paid, deleted),
        ("contract.temporary_limit", "contract", str(d.contract["id"]), d.contract["id"],
         None, limit),
        ("contract.temporary_limit", "contract", str(d.contract["id"]), d.contract["id"],
         limit, {**limit, "limit": "-30.00"}),
    ]


@pytest_twisted.ensureDeferred
async def test_movement_types_refunds_and_parents(api):
    token = await api.admin()

    async def create(kind, body):
        status, created, _ = await api.call("POST", f"/api/v1/{kind}-types", token=token,
                                            json=body)
        return status, created

    status, card = await create("payment", {"title": "Card", "parent_id": 2})
    assert status == 201 and card == {"id": card["id"], "title": "Card", "parent_id": 2,
                                      "is_default": False}
    status, body = await create("payment", {"title": "Refund?", "refund": True})
    assert status == 422 and body["error"]["code"] == "validation_failed"
    status, body = await create("charge", {"title": "Stray", "parent_id": 999})
    assert status == 422 and body["error"]["details"] == {"parent_id": 999}
    status, back = await create("charge", {"title": "Goodwill", "refund": True})
    assert status == 201 and back["refund"] is True and back["parent_id"] is None
    status, listed, _ = await api.call("GET", "/api/v1/charge-types", token=token)
    assert listed["items"][-1] == back and listed["next_cursor"] is None
    status, log, _ = await api.call("GET", "/api/v1/audit?action=charge_type.create",
                                    token=token)
    [entry] = log["items"]
    assert (entry["object_type"], entry["object_id"], entry["after"]) == (
        "charge_type", str(back["id"]), back)


@pytest_twisted.ensureDeferred
async def test_payments_booked_together_each_announce_the_balance_right_after_them(
        api, monkeypatch):
    d = await desk(api, mode="postpaid")
    await d.pay("1000.00")
    units = count_units(api.services.database, monkeypatch)
    amounts = [f"{n}.0{n}" for n in range(1, 9)]
    results = await gatherResults([ensureDeferred(d.call("POST", "/payments", {"amount": a}))
                                   for a in amounts])
    assert [status for status, _, _ in results] == [201] * 8
    assert units.count("create_payments") < 8  # some of them went together
    announced = [data for _, data in events(api, d.contract["id"], "payment.created")][1:]
    announced.sort(key=lambda data: data["payment_id"])
    running, expected = Decimal("1000.00"), []
    for data in announced:
        running += Decimal(data["amount"])
        expected.append(f"{running}")
    assert [data["balance"] for data in announced] == expected
    assert (await d.balance())["balance"] == expected[-1] == "1036.36"


@pytest_twisted.ensureDeferred
async def test_a_closed_month_says_which_month_refused(api, fake_reactor):
    d = await desk(api, mode="postpaid")
    fake_reactor.advance(timedelta(days=31).total_seconds())  # 2026-02-15
    d.token = await api.admin()
    assert (await api.call("POST", "/api/v1/periods/2026-01/close", token=d.token))[0] == 200
    limited, _ = await api.operator(set(PERMISSIONS) - {"period.edit_closed"})
    status, body, _ = await d.call("POST", "/charges", {"amount": "1.00", "date": "2026-01-31"},
                                   token=limited)
    assert status == 409 and body["error"] == {
        "code": "conflict", "message": "2026-01 is closed", "details": {"month": "2026-01"}}
