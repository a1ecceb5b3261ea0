"""A real FreeRADIUS writes accounting into bgloader's spool: Start, Interim-Update and
Stop with gigawords, and an Accounting-On, sent by radclient, become sessions with the
right bytes, time and cost to the kopeck."""

from __future__ import annotations

import pytest
import pytest_twisted

from bgserver.loader.service import LoaderService
from tests.conftest import unavailable
from tests.support.freeradius import FreeRadius
from tests.support.services import ServiceMissing
from tests.support.usage import loader_for, ok, usage_world

MB = 1_048_576
GIGA = 2 ** 32
TARIFF = {"services": [{"price_mb_down": "0.10", "price_mb_up": "0.05",
                        "price_hour": "0.70", "included_mb": 100}]}
# 2026-01-14 10:00:00 UTC
T0 = 1768384800


@pytest.fixture
def radius(tmp_path):
    try:
        server = FreeRadius(tmp_path / "raddb", tmp_path / "spool" / "radius")
    except ServiceMissing as exc:
        unavailable(str(exc))
    server.start()
    yield server
    server.stop()


def session(status, session_id, at, seconds=0, down=0, up=0):
    return {"Acct-Status-Type": status, "User-Name": '"alice"',
            "Acct-Session-Id": f'"{session_id}"', "NAS-IP-Address": "10.0.0.1",
            "Framed-IP-Address": "10.1.0.5", "Event-Timestamp": T0 + at,
            "Acct-Session-Time": seconds, "Acct-Output-Octets": down % GIGA,
            "Acct-Output-Gigawords": down // GIGA, "Acct-Input-Octets": up % GIGA,
            "Acct-Input-Gigawords": up // GIGA}


@pytest_twisted.ensureDeferred
async def test_radius_accounting_becomes_priced_sessions(api, radius, tmp_path):
    token = await api.admin()
    w = await usage_world(api, token, "inet", TARIFF, "alice", "freeradius-detail")
    packets = [
        session("Start", "s1", 0),
        session("Interim-Update", "s1", 1800, 1800, 4196 * MB, 10 * MB),  # a gigaword on
        session("Start", "s2", 300),
        session("Interim-Update", "s2", 1200, 900),
        session("Stop", "s1", 3600, 3600, 4300 * MB, 20 * MB),
        {"Acct-Status-Type": "Accounting-On", "NAS-IP-Address": "10.0.0.1",
         "Event-Timestamp": T0 + 5400},
    ]
    for packet in packets:
        radius.send(packet)
    detail = radius.spool / "detail"
    assert detail.read_text().count("Acct-Status-Type") == len(packets)
    (tmp_path / "spool" / "inet-src").mkdir(parents=True, exist_ok=True)
    detail.rename(tmp_path / "spool" / "inet-src" / "detail-20260114")
    service = LoaderService(loader_for(api, batch_lines=10), tmp_path / "spool",
                            settle_seconds=0)
    assert await service.scan() == 1
    assert [p.name for p in (tmp_path / "spool" / "inet-src" / "done").iterdir()] == [
        "detail-20260114"]
    sessions = (await ok(api, token, "GET", f"{w.base}/sessions"))["items"]
    assert [(s["session_id"], s["start"], s["end"], s["seconds"], s["bytes_down"],
             s["bytes_up"], s["cost"]) for s in sessions] == [
        # 4300 MiB down, 100 included: 4200 * 0.10 = 420.00; 20 MiB * 0.05 = 1.00;
        # 3600 s * 0.70 / 3600 = 0.70: 421.70
        ("s1", "2026-01-14T10:00:00+00:00", "2026-01-14T11:00:00+00:00", 3600, 4300 * MB,
         20 * MB, "421.70"),
        # 900 s * 0.70 / 3600 = 0.175 -> 0.18; ended by the Accounting-On at 11:30
        ("s2", "2026-01-14T10:05:00+00:00", "2026-01-14T11:30:00+00:00", 900, 0, 0, "0.18")]
    # the day rounded once: 421.70 + 0.175 = 421.875 -> 421.88
    assert (await ok(api, token, "GET", w.base))["balance"] == "-421.88"
    files = (await ok(api, token, "GET", "/api/v1/loader/files"))["items"]
    assert [(f["stored"], f["duplicates"], f["quarantined"]) for f in files] == [(6, 0, 0)]
