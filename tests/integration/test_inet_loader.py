"""FreeRADIUS detail files loaded through bgloader on SQLite and MariaDB: sessions with
their interim deltas and gigawords, Accounting-On closing a NAS's sessions, each day
priced once after the month's included download."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest_twisted
from sqlalchemy import select

from bgserver.storage.schema import usage
from tests.support.usage import loader_for, ok, source_row, usage_world, write

D = Decimal
MB = 1_048_576
TARIFF = {"services": [{"price_mb_down": "0.10", "price_mb_up": "0.05",
                        "price_hour": "0.70", "included_mb": 100}]}


def record(status: str, when: str, session: str = "", user: str = "alice", seconds: int = 0,
           down: int = 0, up: int = 0, nas: str = "10.0.0.1", **extra) -> str:
    moment = datetime.fromisoformat(when).replace(tzinfo=timezone.utc)
    lines = [moment.strftime("%a %b %d %H:%M:%S %Y"), f"\tAcct-Status-Type = {status}",
             f"\tNAS-IP-Address = {nas}", f"\tEvent-Timestamp = {int(moment.timestamp())}"]
    if session:
        lines += [f'\tUser-Name = "{user}"', f'\tAcct-Session-Id = "{session}"',
                  "\tFramed-IP-Address = 10.1.0.5",
                  '\tCalling-Station-Id = "00-11-22-33-44-55"',
                  f"\tAcct-Session-Time = {seconds}",
                  f"\tAcct-Output-Octets = {down % 2**32}",
                  f"\tAcct-Output-Gigawords = {down // 2**32}",
                  f"\tAcct-Input-Octets = {up % 2**32}",
                  f"\tAcct-Input-Gigawords = {up // 2**32}"]
    lines += [f"\t{k} = {v}" for k, v in extra.items()]
    return "\n".join(lines) + "\n\n"


DETAIL = "".join([
    record("Start", "2026-01-14T10:00:00", "s1"),
    record("Interim-Update", "2026-01-14T10:30:00", "s1", seconds=1800, down=150 * MB,
           up=10 * MB),
    # past 4 GiB: one gigaword and 100 MiB of octets
    record("Interim-Update", "2026-01-14T11:00:00", "s1", seconds=3600, down=4196 * MB,
           up=20 * MB),
    record("Interim-Update", "2026-01-14T10:30:00", "s1", seconds=1800, down=150 * MB,
           up=10 * MB),  # seen again: nothing new
    record("Stop", "2026-01-14T11:10:00", "s1", seconds=4200, down=4200 * MB, up=21 * MB),
    record("Start", "2026-01-14T12:00:00", "s2"),
    record("Interim-Update", "2026-01-14T12:30:00", "s2", seconds=1800),
    record("Start", "2026-01-14T12:40:00", "b1", user="bob"),  # nobody's login
    "Wed Jan 14 12:50:00 2026\n\tAcct-Status-Type = Interim-Update\n"
    "\tNAS-IP-Address = 10.0.0.1\n\tUser-Name = \"alice\"\n\tAcct-Session-Id = \"s2\"\n"
    "\tAcct-Session-Time = soon\n\n",  # malformed
    record("Accounting-On", "2026-01-14T13:00:00"),  # the NAS restarted: s2 ends
    # across midnight in Moscow (UTC+3): 23:50 on the 14th, 00:10 on the 15th
    record("Start", "2026-01-14T20:40:00", "s3"),
    record("Interim-Update", "2026-01-14T20:50:00", "s3", seconds=600, down=50 * MB),
    record("Stop", "2026-01-14T21:10:00", "s3", seconds=1800, down=60 * MB),
])
# The 14th: 4250 MiB down, 100 of them included: 4150 * 0.10 = 415.00; 21 MiB up * 0.05
# = 1.05; 4200 + 1800 + 600 = 6600 s * 0.70 / 3600 = 1.28333...; 417.3333... -> 417.33.
# The 15th: 10 MiB * 0.10 = 1.00; 1200 s * 0.70 / 3600 = 0.23333...; 1.2333... -> 1.23.
DAY_14, DAY_15 = D("417.33"), D("1.23")


@pytest_twisted.ensureDeferred
async def test_a_detail_file_becomes_sessions_and_exact_usage(api, tmp_path):
    token = await api.admin()
    w = await usage_world(api, token, "inet", TARIFF, "alice", "freeradius-detail",
                          password="s3cret", ip="10.1.0.5", mac="00:11:22:33:44:55")
    source = await source_row(api, "inet-src")
    path = write(tmp_path / "detail-20260114", DETAIL)
    row = await loader_for(api, batch_lines=20).load(source, path)
    assert (row["stored"], row["duplicates"], row["quarantined"]) == (10, 1, 2)
    sessions = (await ok(api, token, "GET", f"{w.base}/sessions"))["items"]
    assert [(s["session_id"], s["start"], s["end"], s["seconds"], s["bytes_down"],
             s["bytes_up"], s["cost"]) for s in sessions] == [
        # 4100 MiB * 0.10 + 21 MiB * 0.05 + 4200 s * 0.70 / 3600 = 411.8666... -> 411.87
        ("s1", "2026-01-14T10:00:00+00:00", "2026-01-14T11:10:00+00:00", 4200, 4200 * MB,
         21 * MB, "411.87"),
        # 1800 s * 0.70 / 3600 = 0.35; ended by the NAS's Accounting-On
        ("s2", "2026-01-14T12:00:00+00:00", "2026-01-14T13:00:00+00:00", 1800, 0, 0, "0.35"),
        # 60 MiB * 0.10 + 1800 s * 0.70 / 3600 = 6.35
        ("s3", "2026-01-14T20:40:00+00:00", "2026-01-14T21:10:00+00:00", 1800, 60 * MB, 0,
         "6.35")]
    rows = api.services.database.run_sync("usage", lambda c: c.execute(
        select(usage.c.date, usage.c.amount).order_by(usage.c.date)).all())
    assert rows == [(date(2026, 1, 14), DAY_14), (date(2026, 1, 15), DAY_15)]
    assert (await ok(api, token, "GET", w.base))["balance"] == "-418.56"
    quarantined = (await ok(api, token, "GET", "/api/v1/loader/quarantine"))["items"]
    assert [(q["line"], q["reason"].split(":")[0]) for q in quarantined] == [
        (99, "unknown login"), (113, "malformed")]
    # again, whole or in overlapping pieces: nothing more
    parts = DETAIL.split("\n\n")
    write(tmp_path / "a", "\n\n".join(parts[:6]) + "\n\n")
    write(tmp_path / "b", "\n\n".join(parts[3:]))
    for name in ("a", "b"):
        await loader_for(api).load(source, tmp_path / name)
    assert (await ok(api, token, "GET", w.base))["balance"] == "-418.56"
    accounts = (await ok(api, token, "GET", f"{w.base}/accounts"))["items"]
    assert (accounts[0]["login"], accounts[0]["has_password"], accounts[0]["mac"]) == (
        "alice", True, "00:11:22:33:44:55")
    assert "s3cret" not in str(accounts)
    audit = await ok(api, token, "GET", f"/api/v1/audit?contract_id={w.contract['id']}")
    assert "s3cret" not in str(audit)

    # the price of time was 0.35 an hour all along: the 14th is 415.00 + 1.05 + 0.641666..
    # = 416.69, the 15th 1.00 + 0.11666.. = 1.12
    await ok(api, token, "PATCH", f"/api/v1/tariffs/{w.plan['id']}", {"modules": {
        str(w.module["id"]): {"services": [{**TARIFF["services"][0], "price_hour": "0.35",
                                            "service_id": w.service["id"]}]}}})
    changed = await loader_for(api).rerate(date(2026, 1, 1), date(2026, 1, 31))
    assert sum(changed.values()) == 2
    assert (await ok(api, token, "GET", w.base))["balance"] == "-417.81"
