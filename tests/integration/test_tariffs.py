"""Module instances, services, tariff plans and contracts' tariff periods through the API,
on SQLite and MariaDB."""

from __future__ import annotations


import pytest_twisted
from sqlalchemy import func, select

from bgserver.storage.schema import audit, outbox, service


async def ok(api, token, method, path, json=None, status=200):
    got, body, _ = await api.call(method, path, token=token, json=json)
    assert got == status, body
    return body


async def instance_with_service(api, token, type_="npay", title="Fees"):
    module = await ok(api, token, "POST", "/api/v1/modules",
                      {"type": type_, "title": title}, 201)
    svc = await ok(api, token, "POST", f"/api/v1/modules/{module['id']}/services",
                   {"title": "Subscription", "unit": "month"}, 201)
    return module, svc


async def fee_plan(api, token, module, svc, title="Home 300", amount="300.00"):
    return await ok(api, token, "POST", "/api/v1/tariffs", {
        "title": title, "modules": {str(module["id"]): {"fees": [
            {"service_id": svc["id"], "amount": amount, "mode": "daily"}]}}}, 201)


@pytest_twisted.ensureDeferred
async def test_module_instances_and_services_are_created_renamed_and_disabled(api):
    token = await api.admin()
    status, body, _ = await api.call("POST", "/api/v1/modules", token=token,
                                     json={"type": "tv", "title": "Television"})
    assert status == 422 and body["error"]["details"][0]["field"] == "type"
    module, svc = await instance_with_service(api, token, "inet", "Internet, Moscow")
    assert (module["type"], module["title"], module["enabled"]) == ("inet", "Internet, Moscow",
                                                                    True)
    renamed = await ok(api, token, "PATCH", f"/api/v1/modules/{module['id']}",
                       {"title": "Internet, Tver", "enabled": False})
    assert (renamed["title"], renamed["enabled"]) == ("Internet, Tver", False)
    changed = await ok(api, token, "PATCH",
                       f"/api/v1/modules/{module['id']}/services/{svc['id']}",
                       {"title": "Traffic", "enabled": False})
    assert (changed["title"], changed["unit"], changed["enabled"]) == ("Traffic", "month", False)
    listed = await ok(api, token, "GET", f"/api/v1/modules/{module['id']}/services")
    assert [s["title"] for s in listed["items"]] == ["Traffic"]
    types = await ok(api, token, "GET", "/api/v1/module-types")
    assert [t["name"] for t in types["items"]] == ["npay", "rscm", "inet", "voice"]
    assert "fees" in types["items"][0]["tariff_config"]["properties"]
    actions = api.services.database.run_sync("audit", lambda c: c.execute(
        select(audit.c.action).where(audit.c.object_type.in_(["module", "service"]))
        .order_by(audit.c.id)).scalars().all())
    assert actions == ["module.create", "service.create", "module.update", "service.update"]


@pytest_twisted.ensureDeferred
async def test_only_module_admins_make_instances(api):
    token, _ = await api.operator({"contract.read"})
    status, body, _ = await api.call("POST", "/api/v1/modules", token=token,
                                     json={"type": "npay", "title": "Fees"})
    assert status == 403 and body["error"]["details"]["permission"] == "module.admin"


@pytest_twisted.ensureDeferred
async def test_a_wrong_tariff_config_names_the_field(api):
    token = await api.admin()
    module, svc = await instance_with_service(api, token)
    other, foreign = await instance_with_service(api, token, "rscm", "Services")
    cases = [
        ({"fees": [{"service_id": svc["id"], "amount": "30.5x"}]},
         f"modules.{module['id']}.fees.0.amount"),
        ({"fees": [{"service_id": svc["id"], "amount": "300", "mode": "weekly"}]},
         f"modules.{module['id']}.fees.0.mode"),
        ({"fees": [{"service_id": svc["id"], "amount": "300", "price": "1"}]},
         f"modules.{module['id']}.fees.0.price"),
        ({"fees": [{"service_id": foreign["id"], "amount": "300"}]}, f"modules.{module['id']}"),
    ]
    for config, field in cases:
        status, body, _ = await api.call("POST", "/api/v1/tariffs", token=token, json={
            "title": "Broken", "modules": {str(module["id"]): config}})
        assert status == 422, body
        assert body["error"]["details"][0]["field"] == field, body
    status, body, _ = await api.call("POST", "/api/v1/tariffs", token=token, json={
        "title": "Nowhere", "modules": {"999": {}}})
    assert (status, body["error"]["details"][0]["field"]) == (422, "modules.999")
    plans = await ok(api, token, "GET", "/api/v1/tariffs")
    assert plans["items"] == []
    assert other["type"] == "rscm"


@pytest_twisted.ensureDeferred
async def test_a_plan_keeps_its_configs_groups_and_changes(api):
    token = await api.admin()
    module, svc = await instance_with_service(api, token)
    group = await ok(api, token, "POST", "/api/v1/contract-groups", {"title": "Homes"}, 201)
    plan = await fee_plan(api, token, module, svc)
    assert plan["modules"] == {str(module["id"]): {"fees": [{
        "service_id": svc["id"], "amount": "300.00", "mode": "daily",
        "charge_when_blocked": False}]}}
    assert plan["cabinet_title"] == "Home 300"
    changed = await ok(api, token, "PATCH", f"/api/v1/tariffs/{plan['id']}", {
        "cabinet_title": "Home", "groups": [group["id"]]})
    assert (changed["cabinet_title"], changed["groups"]) == ("Home", [group["id"]])
    status, body, _ = await api.call("POST", "/api/v1/tariffs", token=token,
                                     json={"title": "Home 300"})
    assert status == 409, body
    types = api.services.database.run_sync("events", lambda c: c.execute(
        select(outbox.c.type).where(outbox.c.type == "tariff.changed")).scalars().all())
    assert len(types) == 2


@pytest_twisted.ensureDeferred
async def test_a_new_tariff_period_ends_the_previous_one_the_day_before(api):
    token = await api.admin()
    module, svc = await instance_with_service(api, token)
    cheap = await fee_plan(api, token, module, svc, "Cheap", "100.00")
    dear = await fee_plan(api, token, module, svc, "Dear", "500.00")
    contract = await ok(api, token, "POST", "/api/v1/contracts",
                        {"title": "Ivanov", "date_from": "2026-01-01"}, 201)
    base = f"/api/v1/contracts/{contract['id']}/tariffs"
    first = await ok(api, token, "POST", base, {"tariff_id": cheap["id"], "from": "2026-01-01"},
                     201)
    await ok(api, token, "POST", base, {"tariff_id": dear["id"], "from": "2026-01-20"}, 201)
    periods = (await ok(api, token, "GET", base))["items"]
    assert [(p["tariff_title"], p["date_from"], p["date_to"]) for p in periods] == [
        ("Cheap", "2026-01-01", "2026-01-19"), ("Dear", "2026-01-20", None)]
    assert periods[0]["id"] == first["id"]
    # a period that began on or after the new day is in the way
    status, body, _ = await api.call("POST", base, token=token,
                                     json={"tariff_id": cheap["id"], "from": "2026-01-20"})
    assert status == 409, body
    # before the contract began
    status, body, _ = await api.call("POST", base, token=token,
                                     json={"tariff_id": cheap["id"], "from": "2025-12-31"})
    assert status == 422, body
    # a future period can be dropped; the one before it is open again
    later = await ok(api, token, "POST", base, {"tariff_id": cheap["id"], "from": "2026-02-01"},
                     201)
    status, _, _ = await api.call("DELETE", f"{base}/{later['id']}", token=token)
    assert status == 204
    periods = (await ok(api, token, "GET", base))["items"]
    assert [(p["tariff_title"], p["date_to"]) for p in periods] == [
        ("Cheap", "2026-01-19"), ("Dear", None)]
    # one that has begun cannot
    status, _, _ = await api.call("DELETE", f"{base}/{first['id']}", token=token)
    assert status == 409


@pytest_twisted.ensureDeferred
async def test_a_tariff_change_into_a_closed_month_is_refused(api, fake_reactor):
    token = await api.admin()
    module, svc = await instance_with_service(api, token)
    plan = await fee_plan(api, token, module, svc)
    contract = await ok(api, token, "POST", "/api/v1/contracts",
                        {"title": "Petrov", "date_from": "2025-11-01"}, 201)
    await ok(api, token, "POST", "/api/v1/periods/2025-12/close")
    readonly_month, _ = await api.operator({"contract.read", "tariff.write"})
    status, body, _ = await api.call("POST", f"/api/v1/contracts/{contract['id']}/tariffs",
                                     token=readonly_month,
                                     json={"tariff_id": plan["id"], "from": "2025-12-15"})
    assert status == 409 and body["error"]["details"] == {"month": "2025-12"}
    await ok(api, readonly_month, "POST", f"/api/v1/contracts/{contract['id']}/tariffs",
             {"tariff_id": plan["id"], "from": "2026-01-01"}, 201)


@pytest_twisted.ensureDeferred
async def test_another_groups_contract_has_no_tariffs_for_you(api):
    token = await api.admin()
    world = await api.north_and_south(token)
    module, svc = await instance_with_service(api, token)
    plan = await fee_plan(api, token, module, svc)
    north, _ = await api.operator({"contract.read", "tariff.write"}, groups=[world.north["id"]])
    for method, json in (("GET", None), ("POST", {"tariff_id": plan["id"]})):
        status, _, _ = await api.call(method, f"/api/v1/contracts/{world.theirs['id']}/tariffs",
                                      token=north, json=json)
        assert status == 404
    await ok(api, north, "POST", f"/api/v1/contracts/{world.ours['id']}/tariffs",
             {"tariff_id": plan["id"]}, 201)


@pytest_twisted.ensureDeferred
async def test_an_instance_in_use_is_not_deleted(api):
    token = await api.admin()
    module, svc = await instance_with_service(api, token)
    plan = await fee_plan(api, token, module, svc)
    contract = await ok(api, token, "POST", "/api/v1/contracts", {"title": "Sidorov"}, 201)
    await ok(api, token, "POST", f"/api/v1/contracts/{contract['id']}/tariffs",
             {"tariff_id": plan["id"]}, 201)
    status, body, _ = await api.call("DELETE", f"/api/v1/modules/{module['id']}", token=token)
    assert status == 409
    assert body["error"]["details"] == {"tariffs": [{"id": plan["id"], "title": "Home 300"}],
                                        "contracts": [contract["id"]]}
    unused, unused_service = await instance_with_service(api, token, "rscm", "Services")
    status, _, _ = await api.call("DELETE", f"/api/v1/modules/{unused['id']}", token=token)
    assert status == 204
    left = api.services.database.run_sync("services", lambda c: c.execute(
        select(func.count()).select_from(service).where(
            service.c.id == unused_service["id"])).scalar_one())
    assert left == 0
    status, _, _ = await api.call("GET", f"/api/v1/modules/{unused['id']}", token=token)
    assert status == 404
