"""One-time services (rscm) through the API, on SQLite and MariaDB: priced from the tariff
in force on the order's day, booked as a charge, refused when the balance cannot carry it,
cancelled with a refund."""

from __future__ import annotations

from decimal import Decimal

import pytest_twisted
from sqlalchemy import func, select

from bgserver.modules.rscm.tables import rscm_order
from bgserver.storage.schema import audit, charge
from tests.integration.test_tariffs import instance_with_service, ok

D = Decimal


async def shop(api, token, contract_json=None):
    """An rscm instance with a service, two plans pricing it 500.00 and 350.50, and a
    contract on the first from 2026-01-01 and on the second from 2026-01-10."""
    module, svc = await instance_with_service(api, token, "rscm", "Services")
    plans = [await ok(api, token, "POST", "/api/v1/tariffs", {
        "title": title, "modules": {str(module["id"]): {"prices": [
            {"service_id": svc["id"], "price": price}]}}}, 201)
        for title, price in (("Old", "500.00"), ("New", "350.50"))]
    contract = await ok(api, token, "POST", "/api/v1/contracts", {
        "title": "Ivanov", "date_from": "2026-01-01", **(contract_json or {})}, 201)
    base = f"/api/v1/contracts/{contract['id']}"
    await ok(api, token, "POST", f"{base}/tariffs", {"tariff_id": plans[0]["id"],
                                                     "from": "2026-01-01"}, 201)
    await ok(api, token, "POST", f"{base}/tariffs", {"tariff_id": plans[1]["id"],
                                                     "from": "2026-01-10"}, 201)
    return module, svc, contract, base


@pytest_twisted.ensureDeferred
async def test_an_order_is_priced_from_the_tariff_of_its_day(api):
    token = await api.admin()
    module, svc, contract, base = await shop(api, token)
    await ok(api, token, "POST", f"{base}/payments", {"amount": "5000.00"}, 201)
    old = await ok(api, token, "POST", f"{base}/orders", {
        "module_id": module["id"], "service_id": svc["id"], "quantity": 2,
        "date": "2026-01-09"}, 201)
    new = await ok(api, token, "POST", f"{base}/orders", {
        "module_id": module["id"], "service_id": svc["id"], "quantity": 3,
        "comment": "cable"}, 201)
    assert (old["price"], old["amount"], old["date"]) == ("500.00", "1000.00", "2026-01-09")
    assert (new["price"], new["amount"], new["date"]) == ("350.50", "1051.50", "2026-01-15")
    assert new["balance"] == "2948.50"  # 5000.00 - 1000.00 - 1051.50
    charges = (await ok(api, token, "GET", f"{base}/charges"))["items"]
    assert [(c["amount"], c["module_id"], c["service_id"], c["type_id"]) for c in charges] == [
        ("1000.00", module["id"], svc["id"], 5), ("1051.50", module["id"], svc["id"], 5)]
    balance = await ok(api, token, "GET", f"{base}/balance?month=2026-01")
    assert (balance["charges"], balance["outgoing"]) == ("2051.50", "2948.50")
    listed = await ok(api, token, "GET", f"{base}/orders")
    assert [o["id"] for o in listed["items"]] == [old["id"], new["id"]]


@pytest_twisted.ensureDeferred
async def test_an_order_the_balance_cannot_carry_books_nothing(api):
    token = await api.admin()
    module, svc, contract, base = await shop(api, token, {"limit": "-100.00"})
    await ok(api, token, "POST", f"{base}/payments", {"amount": "250.00"}, 201)
    status, body, _ = await api.call("POST", f"{base}/orders", token=token, json={
        "module_id": module["id"], "service_id": svc["id"], "check_balance": True})
    assert status == 409, body
    assert body["error"]["details"] == {"balance": "250.00", "amount": "350.50",
                                        "limit": "-100.00"}
    database = api.services.database
    assert database.run_sync("n", lambda c: c.execute(
        select(func.count()).select_from(charge)).scalar_one()) == 0
    assert database.run_sync("n", lambda c: c.execute(
        select(func.count()).select_from(rscm_order)).scalar_one()) == 0
    # exactly at the limit is carried: 250.00 + 100.00 = 350.00 < 350.50 failed above
    await ok(api, token, "POST", f"{base}/payments", {"amount": "0.50"}, 201)
    order = await ok(api, token, "POST", f"{base}/orders", {
        "module_id": module["id"], "service_id": svc["id"], "check_balance": True}, 201)
    assert order["balance"] == "-100.00"
    card = await ok(api, token, "GET", base)
    assert card["status"] == "active"
    # without the check the order goes through and the limit blocks the contract
    await ok(api, token, "POST", f"{base}/orders", {
        "module_id": module["id"], "service_id": svc["id"]}, 201)
    card = await ok(api, token, "GET", base)
    assert (card["balance"], card["status"]) == ("-450.50", "blocked")


@pytest_twisted.ensureDeferred
async def test_a_cancelled_order_gives_its_money_back(api):
    token = await api.admin()
    module, svc, contract, base = await shop(api, token)
    order = await ok(api, token, "POST", f"{base}/orders", {
        "module_id": module["id"], "service_id": svc["id"], "quantity": 2}, 201)
    assert order["balance"] == "-701.00"
    cancelled = await ok(api, token, "POST", f"{base}/orders/{order['id']}/cancel",
                         {"reason": "not delivered"})
    assert cancelled["balance"] == "0.00"
    assert cancelled["cancel_reason"] == "not delivered"
    assert cancelled["cancelled_by_actor_name"] and cancelled["refund_charge_id"]
    charges = (await ok(api, token, "GET", f"{base}/charges"))["items"]
    assert [(c["amount"], c["type_id"]) for c in charges] == [("701.00", 5), ("-701.00", 3)]
    balance = await ok(api, token, "GET", f"{base}/balance?month=2026-01")
    assert (balance["charges"], balance["outgoing"]) == ("0.00", "0.00")
    status, _, _ = await api.call("POST", f"{base}/orders/{order['id']}/cancel", token=token,
                                  json={"reason": "again"})
    assert status == 409
    actions = api.services.database.run_sync("audit", lambda c: c.execute(
        select(audit.c.action).where(audit.c.contract_id == contract["id"],
                                     audit.c.action.like("order.%"))
        .order_by(audit.c.id)).scalars().all())
    assert actions == ["order.create", "order.cancel"]


@pytest_twisted.ensureDeferred
async def test_orders_that_cannot_be_priced_are_refused(api):
    token = await api.admin()
    module, svc, contract, base = await shop(api, token)
    fees, fee = await instance_with_service(api, token, "npay", "Fees")
    other_service = await ok(api, token, "POST", f"/api/v1/modules/{module['id']}/services",
                             {"title": "Unpriced"}, 201)
    cases = [
        ({"module_id": fees["id"], "service_id": fee["id"]}, 422),
        ({"module_id": module["id"], "service_id": fee["id"]}, 422),
        ({"module_id": module["id"], "service_id": other_service["id"]}, 409),
        ({"module_id": module["id"], "service_id": svc["id"], "date": "2025-12-31"}, 422),
        ({"module_id": module["id"], "service_id": svc["id"], "quantity": 0}, 422),
    ]
    for json, expected in cases:
        status, body, _ = await api.call("POST", f"{base}/orders", token=token, json=json)
        assert status == expected, (json, body)
    world = await api.north_and_south(token)
    north, _ = await api.operator({"contract.read", "charge.create"},
                                  groups=[world.north["id"]])
    status, _, _ = await api.call("POST", f"/api/v1/contracts/{world.theirs['id']}/orders",
                                  token=north, json={"module_id": module["id"],
                                                     "service_id": svc["id"]})
    assert status == 404
