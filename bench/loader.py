"""An Asterisk CDR file loaded by one ``twistd -n bgloader`` process into MariaDB, next to
MariaDB's own ``LOAD DATA LOCAL INFILE`` of the same file into a bare table, in the same
run; and the loader's peak memory as the files grow.

Starts a private MariaDB (Debian's mariadb-server), migrates it, and makes (set-based, in
SQL) a voice instance with a service, a tariff of a few dozen prefixes, N contracts on it
with a phone number each, and a loader source. Then for each line count:

1. writes a Master.csv of that many calls, in time order over the last days of this month:
   many numbers, answered (65 %), NO ANSWER, BUSY, FAILED and CONGESTION calls, quoted
   caller ids with doubled quotes, commas in lastdata, prefixes local, mobile, long
   distance, international and toll free; a few calls from unknown numbers and a few
   broken lines (both quarantined);
2. the baseline: ``LOAD DATA LOCAL INFILE`` of the file into a table of 18 text columns
   with no keys (parsed by MariaDB, nothing matched, rated nor booked);
3. bgloader: the file is moved into the source's spool directory and timed until its
   ``loader_file`` row is done — read, parsed, matched to contracts, rated, the calls
   stored, usage rolled up per contract, service and day, balances, audit, events.

One bgloader process loads every file in turn; its peak resident memory (``VmHWM``) is
read after each, so a peak that stays put from the first file to the last says that
memory does not grow with the file.

    python bench/loader.py [--lines 1000000,3000000] [--contracts 10000] [--batch-lines N]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent)]

import pymysql  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bgserver.config import Settings  # noqa: E402
from bgserver.storage import migrate  # noqa: E402
from bgserver.storage.database import Database  # noqa: E402
from tests.support.processes import BillingProcess, base_env  # noqa: E402
from tests.support.services import MariaDB, wait_for  # noqa: E402

ZONE = ZoneInfo("Europe/Moscow")
FIRST_NUMBER = 74951000000
#: (prefix, price a minute, share of the calls' callees)
PREFIXES = [
    ("7495", "0.40", 30), ("7499", "0.40", 10), ("7498", "0.60", 3),
    ("79", "1.50", 25), ("7", "1.90", 2), ("7812", "1.20", 5), ("7343", "1.30", 2),
    ("7383", "1.30", 2), ("7861", "1.40", 2), ("8800", "0", 5),
    ("1", "4.50", 2), ("44", "5.00", 2), ("49", "5.50", 1), ("33", "5.50", 1),
    ("86", "7.00", 1), ("380", "9.00", 1), ("375", "6.00", 1), ("998", "8.00", 1),
    ("90", "6.50", 1), ("972", "7.50", 1), ("81", "8.50", 1), ("4420", "5.00", 1),
]
DISPOSITIONS = [("ANSWERED", 65), ("NO ANSWER", 20), ("BUSY", 10), ("FAILED", 4),
                ("CONGESTION", 1)]
COLUMNS = ("accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel",
           "lastapp", "lastdata", "start", "answer", "end", "duration", "billsec",
           "disposition", "amaflags", "uniqueid", "userfield")


def setup(conn, contracts: int, since: datetime) -> int:
    """The voice instance, its service, the tariff, the contracts with their numbers and
    the loader source ``voice``; returns the instance id."""
    conn.execute(text("INSERT INTO module_instance (type, title, config, created_at, updated_at)"
                      " VALUES ('voice', 'Telephony', '{}', NOW(), NOW())"))
    module_id = conn.execute(text("SELECT MAX(id) FROM module_instance")).scalar_one()
    conn.execute(text("INSERT INTO service (module_id, title, unit, created_at) "
                      "VALUES (:m, 'Calls', 'minute', NOW())"), {"m": module_id})
    service_id = conn.execute(text("SELECT MAX(id) FROM service")).scalar_one()
    conn.execute(text("INSERT INTO tariff_plan (title, created_at, updated_at) "
                      "VALUES ('Bench', NOW(), NOW())"))
    tariff_id = conn.execute(text("SELECT MAX(id) FROM tariff_plan")).scalar_one()
    prefixes = ", ".join(f'{{"prefix": "{p}", "price_min": "{price}"}}'
                         for p, price, _ in PREFIXES)
    config = (f'{{"service_id": {service_id}, "connect_fee": "0", "increment": "30/6", '
              f'"prefixes": [{prefixes}]}}')
    conn.execute(text("INSERT INTO tariff_module (tariff_id, module_id, config) "
                      "VALUES (:t, :m, :c)"), {"t": tariff_id, "m": module_id, "c": config})
    seq = f"seq_1_to_{contracts}"
    conn.execute(text(
        "INSERT INTO contract (number, title, person_type, mode, `limit`, balance, status, "
        "date_from, comment, created_at, updated_at) "
        f"SELECT CONCAT('B-', seq), CONCAT('Bench ', seq), 'person', 'postpaid', 0, 0, "
        f"'active', :d, '', NOW(), NOW() FROM {seq}"), {"d": since.date()})
    conn.execute(text(
        "INSERT INTO contract_status (contract_id, status, date_from, comment, applied, "
        "created_at, actor_type, actor_name) SELECT id, 'active', date_from, '', 1, NOW(), "
        "'system', 'bench' FROM contract"))
    conn.execute(text(
        "INSERT INTO contract_tariff (contract_id, tariff_id, date_from, comment, created_at, "
        "actor_type, actor_name) SELECT id, :t, date_from, '', NOW(), 'system', 'bench' "
        "FROM contract"), {"t": tariff_id})
    conn.execute(text(
        "INSERT INTO voice_number (module_id, contract_id, login, date_from, created_at, "
        "updated_at, actor_type, actor_name) SELECT :m, id, CAST(:first + id AS CHAR), "
        "date_from, NOW(), NOW(), 'system', 'bench' FROM contract"),
        {"m": module_id, "first": FIRST_NUMBER})
    conn.execute(text(
        "INSERT INTO loader_source (name, format, module_id, time_zone, enabled, created_at, "
        "updated_at) VALUES ('voice', 'asterisk-csv', :m, :z, 1, NOW(), NOW())"),
        {"m": module_id, "z": ZONE.key})
    return module_id


def window() -> tuple[datetime, datetime]:
    """The calls' times: the last three days of this billing month so far (the loader
    books them on today's month, the usual case), or the last day early in a month."""
    now = datetime.now(ZONE).replace(microsecond=0) - timedelta(minutes=5)
    month = now.replace(day=1, hour=0, minute=0, second=0)
    start = max(month, now - timedelta(days=3))
    if now - start < timedelta(hours=6):
        start = now - timedelta(days=1)
    return start, now


def generate(path: Path, lines: int, contracts: int, first_call: int, seed: int
             ) -> dict[str, int]:
    """Write ``lines`` CDR lines in time order; returns how many are of each kind."""
    rnd = random.Random(seed)
    since, until = window()
    span = (until - since).total_seconds()
    prefixes = [p for p, _, _ in PREFIXES]
    prefix_weights = [w for _, _, w in PREFIXES]
    dispositions = [d for d, _ in DISPOSITIONS]
    disposition_weights = [w for _, w in DISPOSITIONS]
    kinds = {"calls": 0, "unknown": 0, "broken": 0}
    fmt = "%Y-%m-%d %H:%M:%S"
    with open(path, "w", encoding="utf-8", newline="") as out:
        chunk = []
        for k in range(lines):
            call = first_call + k
            start = since + timedelta(seconds=int(span * k / lines))
            roll = rnd.random()
            if roll < 0.003:
                src = str(FIRST_NUMBER + contracts + 1 + rnd.randrange(1000))  # nobody's
                kinds["unknown"] += 1
            else:
                src = str(FIRST_NUMBER + 1 + rnd.randrange(contracts))
                kinds["calls"] += 1
            prefix = rnd.choices(prefixes, prefix_weights)[0]
            dst = prefix + "".join(rnd.choices("0123456789", k=11 - min(len(prefix), 4)))
            disposition = rnd.choices(dispositions, disposition_weights)[0]
            ring = rnd.randrange(1, 30)
            if disposition == "ANSWERED":
                billsec = int(rnd.expovariate(1 / 150))
                answer = start + timedelta(seconds=ring)
                answer_text = answer.strftime(fmt)
            else:
                billsec, answer, answer_text = 0, start, ""
            end = answer + timedelta(seconds=billsec)
            name = rnd.choice(("Ivanov", "Petrova", "OOO \"\"Romashka\"\"", "Smith, J."))
            line = (f'"","{src}","{dst}","from-internal","""{name}"" <{src}>",'
                    f'"SIP/{src}-{call:08x}","SIP/trunk-{call:08x}","Dial",'
                    f'"SIP/trunk/{dst},60,tTr","{start.strftime(fmt)}","{answer_text}",'
                    f'"{end.strftime(fmt)}",{ring + billsec},{billsec},"{disposition}",'
                    f'"DOCUMENTATION","1764000000.{call}",""\n')
            if roll > 0.9999:  # a line cut short, as a PBX killed while writing leaves it
                line = line[:len(line) // 2] + "\n"
                kinds["broken"] += 1
                kinds["calls"] -= 1
            chunk.append(line)
            if len(chunk) >= 10_000:
                out.write("".join(chunk))
                chunk.clear()
        out.write("".join(chunk))
    return kinds


BARE_TABLE = ("CREATE TABLE bench_cdr (" + ", ".join(f"`{c}` VARCHAR(255)" for c in COLUMNS)
              + ")")


def load_data(server: MariaDB, database: str, path: Path) -> tuple[float, int]:
    """MariaDB's own bulk load of the file into the bare table: seconds and rows."""
    conn = pymysql.connect(host="127.0.0.1", port=server.port, user="root", database=database,
                           local_infile=True, autocommit=True)
    try:
        cursor = conn.cursor()
        cursor.execute("TRUNCATE TABLE bench_cdr")
        started = time.perf_counter()
        cursor.execute(
            f"LOAD DATA LOCAL INFILE '{path}' INTO TABLE bench_cdr CHARACTER SET utf8mb4 "
            "FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' ESCAPED BY '' "
            "LINES TERMINATED BY '\\n'")
        seconds = time.perf_counter() - started
        cursor.execute("SELECT COUNT(*) FROM bench_cdr")
        return seconds, cursor.fetchone()[0]
    finally:
        conn.close()


def peak_rss(pid: int) -> int:
    """The process's peak resident memory, bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM")


def file_row(database: Database, name: str):
    return database.run_sync("bench_file", lambda c: c.execute(text(
        "SELECT state, `lines`, stored, duplicates, quarantined FROM loader_file "
        "WHERE name = :n"), {"n": name}).first(), readonly=True)


def check_money(database: Database) -> tuple[Decimal, Decimal, Decimal]:
    """Calls' costs, usage and balances must be one sum."""
    return database.run_sync("bench_check", lambda c: tuple(c.execute(text(
        "SELECT (SELECT COALESCE(SUM(cost), 0) FROM voice_call), "
        "(SELECT COALESCE(SUM(amount), 0) FROM `usage`), "
        "(SELECT -COALESCE(SUM(balance), 0) FROM contract)")).one()), readonly=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", default="1000000,3000000")
    parser.add_argument("--contracts", type=int, default=10_000)
    parser.add_argument("--batch-lines", type=int, default=None,
                        help="the loader's batch_lines (default: its own default)")
    args = parser.parse_args()
    counts = [int(c) for c in args.lines.split(",")]
    with tempfile.TemporaryDirectory(prefix="bench-loader-") as workdir:
        work = Path(workdir)
        server = MariaDB(work / "mariadb")
        server.start()
        loader = None
        try:
            admin = server.connect()
            admin.cursor().execute("SET GLOBAL local_infile = 1")
            admin.close()
            url = server.create_database()
            name = url.rsplit("/", 1)[1]
            database = Database(Settings().with_overrides(database={"url": url}).database)
            migrate.upgrade(database.engine)
            since, _ = window()
            with database.engine.begin() as conn:
                setup(conn, args.contracts, since - timedelta(days=40))
                conn.execute(text(BARE_TABLE))
            spool = work / "spool"
            (spool / "voice").mkdir(parents=True)
            env = base_env(BG_DATABASE__URL=url, BG_LOADER__SPOOL=str(spool),
                           BG_LOADER__POLL_INTERVAL="0.2", BG_LOADER__SETTLE_SECONDS="0",
                           **({"BG_LOADER__BATCH_LINES": str(args.batch_lines)}
                              if args.batch_lines else {}))
            loader = BillingProcess("bgloader", env, work / "bgloader").start()
            loader.wait_log(r"loader watching the sources", timeout=60)
            print(f"{args.contracts:,} contracts with a number each, {len(PREFIXES)} prefixes, "
                  f"increment 30/6; calls from {window()[0]:%Y-%m-%d %H:%M} to "
                  f"{window()[1]:%Y-%m-%d %H:%M} {ZONE.key}", flush=True)
            first_call, results = 0, []
            for n, lines in enumerate(counts):
                path = work / f"Master-{n}.csv"
                started = time.perf_counter()
                kinds = generate(path, lines, args.contracts, first_call, seed=n)
                first_call += lines
                size = path.stat().st_size
                print(f"{lines:>9,} lines ({size / 2**20:,.0f} MiB) written in "
                      f"{time.perf_counter() - started:.1f} s: {kinds}", flush=True)
                bare_seconds, bare_rows = load_data(server, name, path)
                assert lines - kinds["broken"] <= bare_rows <= lines, bare_rows
                started = time.perf_counter()
                path.rename(spool / "voice" / path.name)
                row = wait_for(lambda: (r := file_row(database, path.name)) is not None
                               and r.state == "done" and r, 3600, "the file loaded",
                               interval=0.05)
                seconds = time.perf_counter() - started
                assert row.lines == lines, row
                assert row.stored == kinds["calls"], row
                assert row.quarantined == kinds["unknown"] + kinds["broken"], row
                calls, used, owed = check_money(database)
                assert calls == used == owed, (calls, used, owed)
                peak = peak_rss(loader.process.pid)
                results.append((lines, peak))
                print(f"  LOAD DATA INFILE (bare table) {bare_seconds:7.2f} s "
                      f"{lines / bare_seconds:>10,.0f} lines/s", flush=True)
                print(f"  bgloader (rated and booked)   {seconds:7.2f} s "
                      f"{lines / seconds:>10,.0f} lines/s   ratio {bare_seconds / seconds:.2f}"
                      f"   peak RSS {peak / 2**20:.0f} MiB   "
                      f"({row.stored:,} stored, {row.quarantined:,} quarantined; usage "
                      f"{used} in all)", flush=True)
            database.engine.dispose()
        finally:
            if loader is not None:
                loader.stop()
            server.stop()
    print(f"targets: ratio at least 0.50; peak RSS under 300 MiB and flat "
          f"({results[0][1] / 2**20:.0f} MiB after {results[0][0]:,} lines, "
          f"{results[-1][1] / 2**20:.0f} MiB after {results[-1][0]:,})")


if __name__ == "__main__":
    main()
