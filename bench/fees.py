"""The daily run of periodic fees for many contracts on MariaDB, next to one set-based
``INSERT ... SELECT`` that writes the same charges, in the same run; and the run's peak
memory as the contract count grows.

Starts a private MariaDB (Debian's mariadb-server), migrates it, creates an npay instance, a
tariff of 300.00 a month by the day, and N contracts on it (set-based, through MariaDB's
sequence tables). Then, for a day:

1. the SQL baseline: one ``INSERT INTO bench_charge ... SELECT`` that reads the same tariff,
   status and contract periods, leaves out keys charged already, computes each day's share
   and writes the charges into a bare copy of ``charge`` (no ledger, audit nor events);
2. ``charge_days`` for the same day: charges, month rows, balances, npay keys, audit, events.

Then the contracts grow to the next count and the next day is charged again. The process's
peak resident memory (``ru_maxrss``) after each run says whether memory grows with the count:
contracts are made in SQL, so the runs are all that can raise it.

    python bench/fees.py [--contracts 100000,300000] [--batch 1000]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from datetime import date, datetime, timezone
from pathlib import Path
from types import SimpleNamespace

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent)]

from sqlalchemy import text  # noqa: E402
from twisted.internet.defer import ensureDeferred, maybeDeferred  # noqa: E402
from twisted.internet.task import Clock  # noqa: E402
from twisted.python.failure import Failure  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

from bgserver.clock import BillingClock  # noqa: E402
from bgserver.config import Settings  # noqa: E402
from bgserver.modules.npay.charging import charge_days  # noqa: E402
from bgserver.storage import migrate  # noqa: E402
from bgserver.storage.database import Database  # noqa: E402
from tests.support.services import MariaDB  # noqa: E402

FIRST_DAY = date(2026, 3, 1)
MONTHLY = "300.00"


class Inline:
    """The Database, each unit of work done at once in this thread (no reactor needed)."""

    def __init__(self, database):
        self.database = database

    def run(self, name, fn, *args, **kwargs):
        return maybeDeferred(self.database.run_sync, name, fn, *args, **kwargs)


def block(coroutine):
    outcome = []
    ensureDeferred(coroutine).addBoth(outcome.append)
    if isinstance(outcome[0], Failure):
        outcome[0].raiseException()
    return outcome[0]


def setup(conn) -> int:
    """An npay instance, one service, one tariff; returns the instance id."""
    conn.execute(text("INSERT INTO module_instance (type, title, config, created_at, updated_at)"
                      " VALUES ('npay', 'Fees', '{}', NOW(), NOW())"))
    module_id = conn.execute(text("SELECT MAX(id) FROM module_instance")).scalar_one()
    conn.execute(text("INSERT INTO service (module_id, title, unit, created_at) "
                      "VALUES (:m, 'Access', 'month', NOW())"), {"m": module_id})
    service_id = conn.execute(text("SELECT MAX(id) FROM service")).scalar_one()
    conn.execute(text("INSERT INTO tariff_plan (title, created_at, updated_at) "
                      "VALUES ('Bench', NOW(), NOW())"))
    tariff_id = conn.execute(text("SELECT MAX(id) FROM tariff_plan")).scalar_one()
    config = ('{"fees": [{"service_id": %d, "amount": "%s", "mode": "daily"}]}'
              % (service_id, MONTHLY))
    conn.execute(text("INSERT INTO tariff_module (tariff_id, module_id, config) "
                      "VALUES (:t, :m, :c)"), {"t": tariff_id, "m": module_id, "c": config})
    return module_id


def add_contracts(conn, first: int, last: int) -> None:
    """Contracts ``first``..``last`` (numbers), active, postpaid, on the bench tariff."""
    seq = f"seq_{first}_to_{last}"
    conn.execute(text(
        "INSERT INTO contract (number, title, person_type, mode, `limit`, balance, status, "
        "date_from, comment, created_at, updated_at) "
        f"SELECT CONCAT('B-', seq), CONCAT('Bench ', seq), 'person', 'postpaid', 0, 0, "
        f"'active', :d, '', NOW(), NOW() FROM {seq}"), {"d": FIRST_DAY})
    conn.execute(text(
        "INSERT INTO contract_status (contract_id, status, date_from, comment, applied, "
        "created_at, actor_type, actor_name) SELECT c.id, 'active', :d, '', 1, NOW(), "
        f"'system', 'bench' FROM contract c JOIN {seq} s ON c.number = CONCAT('B-', s.seq)"),
        {"d": FIRST_DAY})
    conn.execute(text(
        "INSERT INTO contract_tariff (contract_id, tariff_id, date_from, comment, created_at, "
        "actor_type, actor_name) SELECT c.id, (SELECT MAX(id) FROM tariff_plan), :d, '', "
        f"NOW(), 'system', 'bench' FROM contract c JOIN {seq} s "
        "ON c.number = CONCAT('B-', s.seq)"), {"d": FIRST_DAY})


# The same charges in one statement: each contract whose tariff period, contract dates and
# status (active) cover the day, its daily share by cumulative rounding, less the keys
# charged already.
BASELINE = """
INSERT INTO bench_charge (contract_id, amount, type_id, date, comment, created_at, actor_type,
                          actor_name, module_id, service_id)
SELECT ct.contract_id,
       ROUND(:amount * :k / :days, 2) - ROUND(:amount * (:k - 1) / :days, 2),
       4, :day, 'daily fee', NOW(), 'system', 'npay', :m, :s
FROM contract_tariff ct
JOIN tariff_module tm ON tm.tariff_id = ct.tariff_id AND tm.module_id = :m
JOIN contract c ON c.id = ct.contract_id
JOIN contract_status cs ON cs.contract_id = c.id AND cs.applied = 1 AND cs.status = 'active'
     AND cs.date_from <= :day AND (cs.date_to IS NULL OR cs.date_to >= :day)
WHERE ct.date_from <= :day AND (ct.date_to IS NULL OR ct.date_to >= :day)
  AND c.date_from <= :day AND (c.date_to IS NULL OR c.date_to >= :day)
  AND NOT EXISTS (SELECT 1 FROM npay_charge k WHERE k.module_id = :m
                  AND k.contract_id = ct.contract_id AND k.service_id = :s
                  AND k.day = :day AND k.kind = 'fee')
"""


def baseline(conn, module_id: int, day: date) -> int:
    service_id = conn.execute(text("SELECT id FROM service WHERE module_id = :m"),
                              {"m": module_id}).scalar_one()
    return conn.execute(text(BASELINE), {"amount": MONTHLY, "k": day.day, "days": 31,
                                         "day": day, "m": module_id, "s": service_id}).rowcount


def context_at(database, day: date):
    reactor = Clock()
    reactor.advance(datetime(day.year, day.month, day.day, 12, tzinfo=timezone.utc).timestamp())
    return SimpleNamespace(database=Inline(database),
                           clock=BillingClock(reactor, ZoneInfo("Europe/Moscow")),
                           settings=Settings())


def run_day(database, module_id: int, day: date, batch: int) -> dict:
    async def progress(done, total):
        pass
    return block(charge_days(context_at(database, day), module_id, day, day, progress,
                             batch_size=batch))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contracts", default="100000,300000")
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    counts = [int(c) for c in args.contracts.split(",")]
    with tempfile.TemporaryDirectory(prefix="bench-fees-") as workdir:
        server = MariaDB(Path(workdir) / "mariadb")
        server.start()
        try:
            database = Database(Settings().with_overrides(
                database={"url": server.create_database()}).database)
            migrate.upgrade(database.engine)
            with database.engine.begin() as conn:
                module_id = setup(conn)
                conn.execute(text("CREATE TABLE bench_charge LIKE charge"))
            made, day = 0, FIRST_DAY
            rows = []
            for count in counts:
                with database.engine.begin() as conn:
                    add_contracts(conn, made + 1, count)
                made = count
                with database.engine.begin() as conn:
                    started = time.perf_counter()
                    written = baseline(conn, module_id, day)
                    sql_seconds = time.perf_counter() - started
                started = time.perf_counter()
                result = run_day(database, module_id, day, args.batch)
                run_seconds = time.perf_counter() - started
                assert result["fees"] == written == count, (result, written)
                peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
                rows.append((count, sql_seconds, run_seconds, peak))
                print(f"{count:>7} contracts: INSERT ... SELECT {sql_seconds:6.2f} s, "
                      f"npay.charge {run_seconds:6.2f} s ({count / run_seconds:,.0f} "
                      f"contracts/s), ratio {run_seconds / sql_seconds:4.1f}x, "
                      f"peak RSS {peak / 2**20:5.1f} MiB", flush=True)
                day = day.replace(day=day.day + 1)
            database.engine.dispose()
        finally:
            server.stop()
    print(f"targets: within 3x of the statement; memory flat "
          f"({rows[0][3] / 2**20:.1f} MiB at {rows[0][0]:,} vs {rows[-1][3] / 2**20:.1f} MiB "
          f"at {rows[-1][0]:,} contracts)")


if __name__ == "__main__":
    main()
