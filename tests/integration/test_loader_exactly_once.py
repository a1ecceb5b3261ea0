"""Exactly once, whatever happens to the loader: killed with SIGKILL in the middle of a
file and started again, or two loaders on one spool (in one process, and as two
``twistd -n bgloader`` processes) — the same calls, usage and balance as one clean load.
On SQLite and MariaDB."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from decimal import Decimal

import pytest_twisted
from sqlalchemy import func, select
from twisted.internet.defer import gatherResults

from bgserver.loader.service import LoaderService
from bgserver.modules.voice.tables import voice_call
from bgserver.storage.schema import loader_file, usage
from tests.support.processes import CLEAN_STOP, BillingProcess, base_env
from tests.support.services import wait_for
from tests.support.usage import loader_for, ok, usage_world, write

TARIFF = {"connect_fee": "0", "increment": "60/60",
          "prefixes": [{"prefix": "7495", "price_min": "1.20"}]}


def cdr(n: int, first: int = 0) -> tuple[str, Decimal]:
    """``n`` answered calls of 1..300 s to 7495...; each costs ceil(s / 60) * 1.20."""
    lines, total = [], Decimal("0.00")
    for k in range(first, first + n):
        seconds = k % 300 + 1
        minute, second = divmod(k % 3600, 60)
        lines.append(
            f'"","101","7495{k:07d}","from-internal","""Ivanov"" <101>","SIP/101-{k:08x}",'
            f'"SIP/trunk-{k:08x}","Dial","SIP/trunk/7495{k:07d},60,tT",'
            f'"2026-01-{10 + k // 3600:02d} 10:{minute:02d}:{second:02d}",'
            f'"2026-01-{10 + k // 3600:02d} 10:{minute:02d}:{second:02d}",'
            f'"2026-01-{10 + k // 3600:02d} 10:{minute:02d}:{second:02d}",{seconds},{seconds},'
            f'"ANSWERED","DOCUMENTATION","1768000000.{k}",""\n')
        total += -(-seconds // 60) * Decimal("1.20")
    return "".join(lines), total


def totals(database):
    return database.run_sync("totals", lambda c: (
        c.execute(select(func.count()).select_from(voice_call)).scalar_one(),
        c.execute(select(func.sum(usage.c.amount))).scalar_one()))


def url_of(database) -> str:
    return database.engine.url.render_as_string(hide_password=False)


@pytest_twisted.ensureDeferred
async def test_a_loader_killed_mid_file_goes_on_where_it_stopped(api, tmp_path):
    token = await api.admin()
    w = await usage_world(api, token, "voice", TARIFF, "101", "asterisk-csv")
    text, total = cdr(12_000)
    path = write(tmp_path / "Master.csv", text)
    env = base_env(BG_DATABASE__URL=url_of(api.services.database),
                   BG_LOADER__BATCH_LINES="100", BG_LOADER__LEASE_SECONDS="1")
    command = [sys.executable, "-m", "bgserver.cli", "load", str(path), "--source",
               "voice-src", "--quiet"]
    database = api.services.database
    position = lambda: database.run_sync("position", lambda c: c.execute(  # noqa: E731
        select(loader_file.c.position, loader_file.c.state)).first(), readonly=True)
    first = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        row = position()
        if row is not None and row.position > 0:
            break
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait(30)
    killed_at = position()
    assert killed_at.state == "loading" and 0 < killed_at.position < len(text)
    time.sleep(1.2)  # its claim lapses
    again = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True,
                           timeout=300)
    assert again.returncode == 0, again.stderr
    assert "12000 lines: 12000 stored, 0 duplicates, 0 quarantined" in again.stdout
    assert totals(database) == (12_000, total)
    assert (await ok(api, token, "GET", w.base))["balance"] == str(-total)
    balance = await ok(api, token, "GET", f"{w.base}/balance?month=2026-01")
    assert balance["usage"] == str(total)


@pytest_twisted.ensureDeferred
async def test_two_loaders_on_one_spool_load_each_file_once(api, tmp_path):
    token = await api.admin()
    w = await usage_world(api, token, "voice", TARIFF, "101", "asterisk-csv")
    spool = tmp_path / "spool"
    expected = Decimal("0.00")
    for n in range(4):
        text, total = cdr(300, first=n * 300)
        write(spool / "voice-src" / f"Master-{n}.csv", text)
        expected += total
    write(spool / "voice-src" / "Master-0-again.csv", cdr(300)[0])  # same content
    services = [LoaderService(loader_for(api, f"loader-{k}", batch_lines=50), spool,
                              settle_seconds=0) for k in (1, 2)]
    await gatherResults([s.scan() for s in services])
    await gatherResults([s.scan() for s in services])  # whatever one skipped, the next does
    database = api.services.database
    assert totals(database) == (1200, expected)
    files = (await ok(api, token, "GET", "/api/v1/loader/files"))["items"]
    assert sorted((f["stored"], f["duplicates"], f["state"]) for f in files) == \
        [(300, 0, "done")] * 4
    done = sorted(p.name for p in (spool / "voice-src" / "done").iterdir())
    assert done == ["Master-0-again.csv", "Master-0.csv", "Master-1.csv", "Master-2.csv",
                    "Master-3.csv"]
    assert not (spool / "voice-src" / "failed").exists() or \
        not list((spool / "voice-src" / "failed").iterdir())
    assert (await ok(api, token, "GET", w.base))["balance"] == str(-expected)


@pytest_twisted.ensureDeferred
async def test_two_bgloader_processes_on_one_spool_load_each_file_once(api, tmp_path):
    """Both processes see every file at once (they arrive while both watch), claim them
    by checksum in the database; neither loads a file the other holds or has loaded."""
    token = await api.admin()
    w = await usage_world(api, token, "voice", TARIFF, "101", "asterisk-csv")
    spool = tmp_path / "spool"
    env = base_env(BG_DATABASE__URL=url_of(api.services.database),
                   BG_LOADER__SPOOL=str(spool), BG_LOADER__POLL_INTERVAL="0.1",
                   BG_LOADER__SETTLE_SECONDS="0", BG_LOADER__BATCH_LINES="100")
    loaders = [BillingProcess("bgloader", env, tmp_path / name) for name in ("one", "two")]
    incoming = spool / "voice-src"
    incoming.mkdir(parents=True)
    try:
        for p in loaders:
            p.start()
        for p in loaders:
            p.wait_log(r"loader watching the sources", timeout=60)
        expected = Decimal("0.00")
        for n in range(6):
            text, total = cdr(1000, first=n * 1000)
            expected += total
            # written aside, then moved in whole: a loader never sees half a file
            write(incoming / f".Master-{n}.csv", text).rename(incoming / f"Master-{n}.csv")
        write(incoming / ".copy", cdr(1000, first=2000)[0]).rename(
            incoming / "Master-2-again.csv")
        database = api.services.database
        wait_for(lambda: not [p for p in incoming.iterdir() if p.is_file()], 240,
                 "every file loaded and moved to done/", interval=0.2)
    finally:
        codes = [p.stop() for p in loaders]
    assert codes == [CLEAN_STOP, CLEAN_STOP], [p.log() for p in loaders]
    files = (await ok(api, token, "GET", "/api/v1/loader/files"))["items"]
    assert sorted((f["name"], f["lines"], f["stored"], f["duplicates"], f["quarantined"],
                   f["state"]) for f in files if f["name"] != "Master-2-again.csv") == \
        [(f"Master-{n}.csv", 1000, 1000, 0, 0, "done") for n in range(6)]
    assert totals(database) == (6000, expected)
    assert sorted(p.name for p in (incoming / "done").iterdir()) == \
        ["Master-0.csv", "Master-1.csv", "Master-2-again.csv", "Master-2.csv",
         "Master-3.csv", "Master-4.csv", "Master-5.csv"]
    assert not (incoming / "failed").exists()
    assert (await ok(api, token, "GET", w.base))["balance"] == str(-expected)
    balance = await ok(api, token, "GET", f"{w.base}/balance?month=2026-01")
    assert balance["usage"] == str(expected)
    assert all("Traceback" not in p.log() for p in loaders), [p.log() for p in loaders]
