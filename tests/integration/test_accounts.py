"""Accounts through the API on SQLite and MariaDB: a number is held by one contract at a
time, kept with its history; a call goes to whoever held the number that day."""

from __future__ import annotations

import pytest_twisted

from tests.support.usage import loader_for, ok, source_row, usage_world, write

TARIFF = {"connect_fee": "0", "increment": "60/60",
          "prefixes": [{"prefix": "7", "price_min": "1.00"}]}


def call(day: str, uniqueid: str) -> str:
    return (f'"","+7 495 100-00-01","79001234567","internal","101","SIP/1","SIP/2","Dial",'
            f'"x","{day} 12:00:00","{day} 12:00:00","{day} 12:01:00",60,60,"ANSWERED",'
            f'"DOCUMENTATION","{uniqueid}",""\n')


@pytest_twisted.ensureDeferred
async def test_a_number_passes_from_one_contract_to_another(api, tmp_path):
    token = await api.admin()
    w = await usage_world(api, token, "voice", TARIFF, "+7 (495) 100-00-01", "asterisk-csv")
    assert w.account["login"] == "74951000001"
    other = await ok(api, token, "POST", "/api/v1/contracts",
                     {"title": "Petrov", "date_from": "2026-01-01"}, 201)
    other_base = f"/api/v1/contracts/{other['id']}"
    await ok(api, token, "POST", f"{other_base}/tariffs",
             {"tariff_id": w.plan["id"], "from": "2026-01-01"}, 201)
    taken = {"module_id": w.module["id"], "login": "74951000001", "from": "2026-01-10"}
    status, body, _ = await api.call("POST", f"{other_base}/accounts", token=token, json=taken)
    assert status == 409, body
    assert body["error"]["details"]["contract_id"] == w.contract["id"]
    status, body, _ = await api.call("POST", f"{other_base}/accounts", token=token, json={
        "module_id": w.module["id"], "login": "74951000001", "password": "x"})
    assert status == 422, body  # a phone number has no password
    # Ivanov gives the number up after the 9th; Petrov has it from the 10th
    await ok(api, token, "PATCH",
             f"{w.base}/accounts/{w.module['id']}/{w.account['id']}", {"to": "2026-01-09"})
    await ok(api, token, "POST", f"{other_base}/accounts", taken, 201)
    source = await source_row(api, "voice-src")
    await loader_for(api).load(source, write(tmp_path / "Master.csv",
                                             call("2026-01-09", "1.1") + call("2026-01-10",
                                                                              "1.2")))
    assert (await ok(api, token, "GET", w.base))["balance"] == "-1.00"
    assert (await ok(api, token, "GET", other_base))["balance"] == "-1.00"
    history = (await ok(api, token, "GET", f"{w.base}/accounts"))["items"]
    assert [(a["login"], a["date_from"], a["date_to"]) for a in history] == [
        ("74951000001", "2026-01-01", "2026-01-09")]
    audit = (await ok(api, token, "GET",
                      f"/api/v1/audit?contract_id={w.contract['id']}"))["items"]
    assert {"account.create", "account.update"} <= {a["action"] for a in audit}


@pytest_twisted.ensureDeferred
async def test_loader_routes_need_loader_admin(api):
    reader, _ = await api.operator({"contract.read"})
    for path in ("/api/v1/loader/sources", "/api/v1/loader/files",
                 "/api/v1/loader/quarantine"):
        status, body, _ = await api.call("GET", path, token=reader)
        assert status == 403, body
