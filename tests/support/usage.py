"""A world for usage tests, made through the API: a module instance with a service, a
tariff plan for it, a contract on the plan with an account, a loader source."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from bgserver.loader.core import Loader
from bgserver.services import module_registry


async def ok(api, token, method, path, json=None, status=200):
    got, body, _ = await api.call(method, path, token=token, json=json)
    assert got == status, body
    return body


async def usage_world(api, token, module_type: str, tariff: dict, login: str,
                      source_format: str, **login_extra) -> SimpleNamespace:
    module = await ok(api, token, "POST", "/api/v1/modules",
                      {"type": module_type, "title": f"{module_type} 1"}, 201)
    svc = await ok(api, token, "POST", f"/api/v1/modules/{module['id']}/services",
                   {"title": "Traffic" if module_type == "inet" else "Calls",
                    "unit": "MB" if module_type == "inet" else "minute"}, 201)
    config = {**tariff}
    if module_type == "voice":
        config["service_id"] = svc["id"]
    else:
        config["services"] = [{**s, "service_id": svc["id"]} for s in tariff["services"]]
    plan = await ok(api, token, "POST", "/api/v1/tariffs", {
        "title": f"{module_type} plan", "modules": {str(module["id"]): config}}, 201)
    contract = await ok(api, token, "POST", "/api/v1/contracts",
                        {"title": "Ivanov", "date_from": "2026-01-01"}, 201)
    base = f"/api/v1/contracts/{contract['id']}"
    await ok(api, token, "POST", f"{base}/tariffs",
             {"tariff_id": plan["id"], "from": "2026-01-01"}, 201)
    account = await ok(api, token, "POST", f"{base}/accounts", {
        "module_id": module["id"], "login": login, "from": "2026-01-01", **login_extra}, 201)
    source = await ok(api, token, "POST", "/api/v1/loader/sources", {
        "name": f"{module_type}-src", "format": source_format, "module_id": module["id"],
        "time_zone": "Europe/Moscow"}, 201)
    return SimpleNamespace(module=module, service=svc, plan=plan, contract=contract,
                           base=base, account=account, source=source)


def loader_for(api, holder: str = "test-loader", batch_lines: int = 3) -> Loader:
    s = api.services
    return Loader(s.database, s.clock, module_registry(), holder, batch_lines, 60.0)


async def source_row(api, name: str) -> dict:
    from bgserver.storage import loader as store
    return await api.services.database.run("source", store.source_by_name, name)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode())
    return path
