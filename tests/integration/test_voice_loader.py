"""Asterisk CDRs loaded through bgloader on SQLite and MariaDB: matched by the number held
that day, rated by the tariff of that day, rolled up into the day's usage; reloads,
overlaps, quarantine, reprocess and rerate change nothing twice."""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal

import pytest_twisted
from sqlalchemy import func, select

from bgserver.modules.voice.tables import voice_call
from bgserver.storage.schema import audit, outbox, usage
from tests.support.cabinet import Subscriber
from tests.support.usage import loader_for, ok, source_row, usage_world, write

D = Decimal
TARIFF = {"connect_fee": "0", "increment": "60/60", "prefixes": [
    {"prefix": "7", "price_min": "2.00"}, {"prefix": "7495", "price_min": "1.20"},
    {"prefix": "74957", "price_min": "0.90"}]}

# Local times (Europe/Moscow, UTC+3). Real-world shapes: a caller id with doubled quotes
# and a comma, commas in lastdata, unanswered calls, no uniqueid, a truncated last line.
CDR = (
    '"","101","74951234567","from-internal","""Ivanov, Petr"" <101>","SIP/101-00000001",'
    '"SIP/trunk-00000002","Dial","SIP/trunk/74951234567,60,tT","2026-01-14 10:00:00",'
    '"2026-01-14 10:00:05","2026-01-14 10:01:06",66,61,"ANSWERED","DOCUMENTATION",'
    '"1768374000.1",""\n'
    '"","101","74957001122","from-internal","""Office"" <101>","SIP/101-00000003",'
    '"SIP/trunk-00000004","Dial","SIP/trunk/74957001122,60,tTr","2026-01-14 23:59:30",'
    '"2026-01-14 23:59:40","2026-01-15 00:00:10",40,30,"ANSWERED","DOCUMENTATION",'
    '"1768424370.3",""\n'
    '"","101","74951110000","from-internal","101","SIP/101-00000005","","Dial",'
    '"SIP/trunk/74951110000,60","2026-01-15 09:00:00","",'
    '"2026-01-15 09:00:20",20,0,"NO ANSWER","DOCUMENTATION","1768456800.5",""\n'
    '"","101","74951110000","from-internal","101","SIP/101-00000006","","Dial",'
    '"SIP/trunk/74951110000,60","2026-01-15 09:01:00","","2026-01-15 09:01:02",2,0,"BUSY",'
    '"DOCUMENTATION","1768456860.6",""\n'
    '"","101","74951110000","from-internal","101","SIP/101-00000007","","Dial",'
    '"SIP/trunk/74951110000,60","2026-01-15 09:02:00","","2026-01-15 09:02:00",0,0,'
    '"FAILED","DOCUMENTATION","1768456920.7",""\n'
    # no uniqueid, no userfield: 16 columns
    '"","+7 (495) 000-01-01","78121234567","from-internal","101","SIP/101-00000008",'
    '"SIP/trunk-00000009","Dial","SIP/trunk/78121234567,60","2026-01-15 11:00:00",'
    '"2026-01-15 11:00:01","2026-01-15 11:02:06",126,125,"ANSWERED","DOCUMENTATION"\n'
    '"","102","74951234567","from-internal","102","SIP/102-0000000a","SIP/trunk-0000000b",'
    '"Dial","SIP/trunk/74951234567","2026-01-15 11:30:00","2026-01-15 11:30:00",'
    '"2026-01-15 11:31:00",60,60,"ANSWERED","DOCUMENTATION","1768465800.10",""\n'
    '"","101","7495", broken "quote","x"\n'
    '"","101","74951234567","from-internal","101","SIP/101-0000000c","SIP/trunk-0000000d",'
    '"Dial","SIP/trunk/74951234567","2026-01-15 12:00:00","2026-01-15 12:00:00",'
    '"2026-01-15 12:00:59",59,59,"ANSWERED","DOCUMENTATION","1768467600.12",""\n'
    '"","101","74951234567","from-internal","101","SIP/101-0000000e","SIP/tru'
)
# 1: 61 s -> 120 s at 1.20 = 2.40 (2026-01-14)
# 2: 30 s -> 60 s at 0.90 (74957) = 0.90 (starts 2026-01-14 23:59:30 local: that day)
# 6: 125 s -> 180 s at 2.00 (7) = 6.00 (2026-01-15; the src +7 (495) 000-01-01 is a number
#    of the contract too, as digits)
# 9: 59 s -> 60 s at 1.20 = 1.20 (2026-01-15)
DAY_14, DAY_15 = D("3.30"), D("7.20")


async def world(api, token):
    w = await usage_world(api, token, "voice", TARIFF, "101", "asterisk-csv")
    await ok(api, token, "POST", f"{w.base}/accounts", {
        "module_id": w.module["id"], "login": "+7 (495) 000-01-01", "from": "2026-01-01"}, 201)
    return w


def count(database, table, *where):
    return database.run_sync("count", lambda c: c.execute(
        select(func.count()).select_from(table).where(*where)).scalar_one())


@pytest_twisted.ensureDeferred
async def test_a_cdr_file_is_rated_and_booked_exactly(api, tmp_path):
    token = await api.admin()
    w = await world(api, token)
    source = await source_row(api, "voice-src")
    path = write(tmp_path / "Master.csv", CDR)
    row = await loader_for(api).load(source, path)
    assert (row["state"], row["lines"], row["stored"], row["duplicates"],
            row["quarantined"]) == ("done", 10, 7, 0, 3)
    calls = (await ok(api, token, "GET", f"{w.base}/calls"))["items"]
    assert [(c["dst"], c["disposition"], c["billsec"], c["billed_seconds"], c["cost"])
            for c in calls] == [
        ("74951234567", "ANSWERED", 61, 120, "2.40"),
        ("74957001122", "ANSWERED", 30, 60, "0.90"),
        ("74951110000", "NO ANSWER", 0, 0, "0.00"),
        ("74951110000", "BUSY", 0, 0, "0.00"),
        ("74951110000", "FAILED", 0, 0, "0.00"),
        ("78121234567", "ANSWERED", 125, 180, "6.00"),
        ("74951234567", "ANSWERED", 59, 60, "1.20")]
    assert calls[0]["start"] == "2026-01-14T07:00:00+00:00"
    rows = api.services.database.run_sync("usage", lambda c: c.execute(
        select(usage.c.date, usage.c.amount).order_by(usage.c.date)).all())
    assert [(str(d), a) for d, a in rows] == [("2026-01-14", DAY_14), ("2026-01-15", DAY_15)]
    balance = await ok(api, token, "GET", f"{w.base}/balance?month=2026-01")
    assert (balance["usage"], balance["outgoing"]) == ("10.50", "-10.50")
    card = await ok(api, token, "GET", w.base)
    assert (card["balance"], card["status"]) == ("-10.50", "blocked")  # prepaid, limit 0
    quarantined = (await ok(api, token, "GET", "/api/v1/loader/quarantine"))["items"]
    assert [(q["line"], q["reason"].split(":")[0]) for q in quarantined] == [
        (7, "unknown number"), (8, "malformed"), (10, "malformed")]
    files = (await ok(api, token, "GET", "/api/v1/loader/files"))["items"]
    assert [(f["name"], f["stored"], f["quarantined"]) for f in files] == [
        ("Master.csv", 7, 3)]
    database = api.services.database
    assert count(database, outbox, outbox.c.type == "loader.file_loaded") == 1
    assert count(database, outbox, outbox.c.type == "balance.changed") >= 2

    # the same content again, under its name and another: nothing more
    again = await loader_for(api).load(source, path)
    assert again["id"] == row["id"]
    copy = shutil.copy(path, tmp_path / "Master-copy.csv")
    assert (await loader_for(api).load(source, copy))["id"] == row["id"]
    assert count(database, voice_call) == 7
    assert (await ok(api, token, "GET", w.base))["balance"] == "-10.50"


@pytest_twisted.ensureDeferred
async def test_overlapping_files_book_each_call_once(api, tmp_path):
    token = await api.admin()
    w = await world(api, token)
    source = await source_row(api, "voice-src")
    lines = CDR.splitlines(keepends=True)
    first = write(tmp_path / "a.csv", "".join(lines[:6]))
    second = write(tmp_path / "b.csv", "".join(lines[1:]))
    one = await loader_for(api).load(source, first)
    two = await loader_for(api).load(source, second)
    assert (one["stored"], one["duplicates"]) == (6, 0)
    assert (two["stored"], two["duplicates"], two["quarantined"]) == (1, 5, 3)
    assert (await ok(api, token, "GET", w.base))["balance"] == "-10.50"
    assert count(api.services.database, voice_call) == 7


@pytest_twisted.ensureDeferred
async def test_reprocess_stores_what_an_operator_fixed(api, tmp_path):
    token = await api.admin()
    w = await world(api, token)
    source = await source_row(api, "voice-src")
    await loader_for(api).load(source, write(tmp_path / "Master.csv", CDR))
    # number 102 was Ivanov's second line all along: the operator adds it
    await ok(api, token, "POST", f"{w.base}/accounts", {
        "module_id": w.module["id"], "login": "102", "from": "2026-01-01"}, 201)
    counts = await loader_for(api).reprocess()
    assert counts == {"stored": 1, "duplicates": 0, "quarantined": 2}
    # 102's call: 60 s -> 60 s at 1.20 = 1.20 more on 2026-01-15
    assert (await ok(api, token, "GET", w.base))["balance"] == "-11.70"
    assert (await loader_for(api).reprocess()) == {"stored": 0, "duplicates": 0,
                                                   "quarantined": 2}
    assert (await ok(api, token, "GET", w.base))["balance"] == "-11.70"
    files = (await ok(api, token, "GET", "/api/v1/loader/files"))["items"]
    assert (files[0]["stored"], files[0]["quarantined"]) == (8, 2)


@pytest_twisted.ensureDeferred
async def test_rerate_replaces_the_usage_of_the_days_exactly(api, tmp_path):
    token = await api.admin()
    w = await world(api, token)
    source = await source_row(api, "voice-src")
    await loader_for(api).load(source, write(tmp_path / "Master.csv", CDR))
    database = api.services.database
    updates = count(database, audit, audit.c.action == "usage.update")
    # the tariff is corrected: 7495 was 0.60 a minute, and the increment 1/1
    await ok(api, token, "PATCH", f"/api/v1/tariffs/{w.plan['id']}", {"modules": {
        str(w.module["id"]): {**TARIFF, "service_id": w.service["id"], "increment": "1/1",
                              "prefixes": [{"prefix": "7", "price_min": "2.00"},
                                           {"prefix": "7495", "price_min": "0.60"},
                                           {"prefix": "74957", "price_min": "0.90"}]}}})
    changed = await loader_for(api).rerate(date(2026, 1, 15), date(2026, 1, 15))
    # 2026-01-15 only: 125 s at 2.00 = 4.166.. -> 4.17; 59 s at 0.60 = 0.59 -> 4.76; the
    # three unanswered calls keep costing nothing but show 7495's new price
    assert sum(changed.values()) == 5
    rows = api.services.database.run_sync("usage", lambda c: c.execute(
        select(usage.c.date, usage.c.amount).order_by(usage.c.date)).all())
    assert [(str(d), a) for d, a in rows] == [("2026-01-14", DAY_14), ("2026-01-15", D("4.76"))]
    assert (await ok(api, token, "GET", w.base))["balance"] == "-8.06"  # 3.30 + 4.76
    balance = await ok(api, token, "GET", f"{w.base}/balance?month=2026-01")
    assert (balance["usage"], balance["outgoing"]) == ("8.06", "-8.06")
    assert count(database, audit, audit.c.action == "usage.update") == updates + 1
    assert count(database, audit, audit.c.action == "usage.rerate") == 1
    calls = (await ok(api, token, "GET", f"{w.base}/calls?from=2026-01-15&to=2026-01-15"))
    assert [c["cost"] for c in calls["items"]] == ["0.00", "0.00", "0.00", "4.17", "0.59"]
    # the whole month: the 14th's two calls now at 1/1: 61 s at 0.60 = 0.61, 30 s at 0.90
    # = 0.45; the 15th stays as it is
    changed = await loader_for(api).rerate(date(2026, 1, 1), date(2026, 1, 31))
    assert sum(changed.values()) == 2
    assert (await ok(api, token, "GET", w.base))["balance"] == "-5.82"  # 1.06 + 4.76
    assert sum((await loader_for(api).rerate(date(2026, 1, 1), date(2026, 1, 31)))
               .values()) == 0


@pytest_twisted.ensureDeferred
async def test_the_subscriber_sees_the_loaded_calls_in_the_cabinet(api, tmp_path):
    token = await api.admin()
    w = await world(api, token)
    await ok(api, token, "PATCH", w.base, {"cabinet_password": "calls-secret-42"})
    await loader_for(api).load(await source_row(api, "voice-src"),
                               write(tmp_path / "Master.csv", CDR))
    subscriber = Subscriber(api, "en")
    assert (await subscriber.login(w.contract["number"], "calls-secret-42")).status == 303
    page = await subscriber.get("/cabinet/calls?from=2026-01-14&to=2026-01-15")
    assert page.status == 200
    assert "74957001122" in page.text and "78121234567" in page.text
    csv = await subscriber.get("/cabinet/calls.csv?from=2026-01-14&to=2026-01-15")
    lines = csv.text.split("\r\n")
    assert lines[0] == "start,src,dst,billsec,billed_seconds,cost"
    # the seven calls stored, their costs summing to the day usages 3.30 + 7.20
    assert len([line for line in lines[1:] if line]) == 7
    assert sum(D(line.rsplit(",", 1)[1]) for line in lines[1:] if line) == DAY_14 + DAY_15
    only_14th = await subscriber.get("/cabinet/calls.csv?from=2026-01-14&to=2026-01-14")
    assert len([line for line in only_14th.text.split("\r\n")[1:] if line]) == 2
