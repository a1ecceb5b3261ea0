"""The store on SQLite and on a real MariaDB: schema, exact money, UTC times, retries."""

from __future__ import annotations

import random
import threading
from collections import Counter
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
import pytest_twisted
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import (Column, Integer, MetaData, Table, event, func, insert, select, text,
                        update)
from sqlalchemy.exc import StatementError

from bgserver.config import Settings
from bgserver.storage.database import (CommitUncertain, Database, DatabaseUnavailable,
                                       is_retryable)
from bgserver.services import module_registry
from bgserver.storage.schema import metadata
from bgserver.storage.types import Money, UtcDateTime

probe_metadata = MetaData()
probe = Table(
    "money_probe", probe_metadata,
    Column("id", Integer, primary_key=True),
    Column("amount", Money(), nullable=False),
    Column("price", Money(places=4), nullable=True),
    Column("at", UtcDateTime, nullable=True),
)
counter = Table("counter_probe", probe_metadata,
                Column("id", Integer, primary_key=True, autoincrement=False),
                Column("n", Integer, nullable=False))


@pytest.fixture
def probe_db(database):
    probe_metadata.create_all(database.engine)
    yield database
    probe_metadata.drop_all(database.engine)


def test_migrations_build_exactly_the_declared_schema(database):
    module_registry()  # the module types' tables too
    with database.engine.connect() as conn:
        differences = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    assert differences == []


@pytest_twisted.ensureDeferred
async def test_money_round_trip_and_sum_are_exact(probe_db):
    rng = random.Random(20261129)
    amounts = [Decimal("0.01"), Decimal("-0.01"), Decimal("0.10"), Decimal("0.20"),
               Decimal("9999999999999999.99"), Decimal("-9999999999999999.99")]
    amounts += [Decimal(rng.randint(-10**9, 10**9)).scaleb(-2) for _ in range(2000)]
    prices = [Decimal(rng.randint(0, 10**7)).scaleb(-4) for _ in amounts]

    def store(conn):
        conn.execute(insert(probe), [{"amount": a, "price": p} for a, p in zip(amounts, prices)])

    def read(conn):
        rows = conn.execute(select(probe.c.amount, probe.c.price).order_by(probe.c.id)).all()
        total = conn.execute(select(func.sum(probe.c.amount))
                             .where(probe.c.id > 2 + 4)).scalar_one()
        price_total = conn.execute(select(func.sum(probe.c.price))).scalar_one()
        return rows, total, price_total

    await probe_db.run("store", store)
    rows, total, price_total = await probe_db.run("read", read)
    assert [r.amount for r in rows] == amounts
    assert [r.price for r in rows] == prices
    assert all(isinstance(r.amount, Decimal) and r.amount.as_tuple().exponent == -2
               for r in rows)
    assert total == sum(amounts[6:], Decimal("0.00"))
    assert price_total == sum(prices, Decimal("0.0000"))


@pytest.mark.parametrize("bad", [Decimal("0.001"), 1.5, "10.00"])
def test_money_column_refuses_inexact_values(probe_db, bad):
    with pytest.raises(StatementError):
        probe_db.run_sync("store", lambda conn: conn.execute(insert(probe).values(amount=bad)))
    assert probe_db.run_sync("count", lambda c: c.execute(
        select(func.count()).select_from(probe)).scalar_one()) == 0


def test_times_are_stored_in_utc_and_read_back_aware(probe_db):
    moment = datetime(2026, 3, 29, 1, 30, 15, 123456,
                      tzinfo=timezone(timedelta(hours=3)))
    probe_db.run_sync("store", lambda c: c.execute(
        insert(probe).values(amount=Decimal("1.00"), at=moment)))
    raw_at, = probe_db.run_sync("raw", lambda c: c.execute(text(
        "SELECT at FROM money_probe")).one())
    stored = probe_db.run_sync("read", lambda c: c.execute(select(probe.c.at)).scalar_one())
    assert stored == moment and stored.tzinfo is timezone.utc
    assert str(raw_at).startswith("2026-03-28 22:30:15")
    with pytest.raises(StatementError):
        probe_db.run_sync("naive", lambda c: c.execute(
            insert(probe).values(amount=Decimal("1.00"), at=datetime(2026, 1, 1))))


@pytest.mark.mariadb
def test_a_deadlock_is_retried_and_both_units_commit(mariadb):
    database = Database(Settings().with_overrides(
        database={"url": mariadb.create_database()}).database)
    probe_metadata.create_all(database.engine)
    database.run_sync("rows", lambda c: c.execute(insert(counter), [{"id": 1, "n": 0},
                                                                    {"id": 2, "n": 0}]))
    attempts: Counter[str] = Counter()
    barrier = threading.Barrier(2, timeout=10)

    def cross(conn, first, second, name):
        attempts[name] += 1
        conn.execute(update(counter).where(counter.c.id == first).values(n=counter.c.n + 1))
        if attempts[name] == 1:
            barrier.wait()  # both hold one row and now want the other's: a deadlock
        conn.execute(update(counter).where(counter.c.id == second).values(n=counter.c.n + 1))

    threads = [threading.Thread(target=database.run_sync,
                                args=("cross", cross, a, b, name))
               for a, b, name in ((1, 2, "ab"), (2, 1, "ba"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sum(attempts.values()) == 3  # one of the two was the victim and ran again
    assert database.run_sync("read", lambda c: sorted(
        c.execute(select(counter.c.n)).scalars())) == [2, 2]
    database.engine.dispose()


def probe_database(mariadb) -> Database:
    database = Database(Settings().with_overrides(
        database={"url": mariadb.create_database()}).database)
    probe_metadata.create_all(database.engine)
    return database


def kill_connection(mariadb, connection_id: int) -> None:
    """As when the server restarts or a network link drops."""
    killer = mariadb.connect()
    killer.cursor().execute(f"KILL {connection_id}")
    killer.close()


def store_probe(calls: list):
    def store(conn):
        calls.append(conn.execute(text("SELECT CONNECTION_ID()")).scalar_one())
        conn.execute(insert(probe).values(amount=Decimal("5.00")))
    return store


@pytest.mark.mariadb
def test_a_lost_connection_is_retried(mariadb):
    database = probe_database(mariadb)
    calls, attempts = [], []
    store = store_probe(calls)

    def store_after_losing_connection(conn):
        attempts.append(conn.execute(text("SELECT CONNECTION_ID()")).scalar_one())
        if len(attempts) == 1:
            kill_connection(mariadb, attempts[0])
        store(conn)

    database.run_sync("store", store_after_losing_connection)
    assert len(attempts) == 2 and attempts[0] != attempts[1]
    assert len(calls) == 1  # the first attempt died before it stored anything
    assert database.run_sync("sum", lambda c: c.execute(
        select(func.sum(probe.c.amount))).scalar_one()) == Decimal("5.00")
    database.engine.dispose()


@pytest.mark.mariadb
def test_work_whose_commit_lost_the_connection_is_not_run_again(mariadb):
    """Its outcome is unknown: running it again could store it twice."""
    database = probe_database(mariadb)
    calls = []

    def lose_connection_at_commit(conn):
        kill_connection(mariadb, calls[-1])

    event.listen(database.engine, "commit", lose_connection_at_commit)
    try:
        with pytest.raises(CommitUncertain):
            database.run_sync("store", store_probe(calls))
    finally:
        event.remove(database.engine, "commit", lose_connection_at_commit)
    assert len(calls) == 1
    # the same work is run again when the connection is lost before the commit
    database.run_sync("store", store_probe(calls))
    assert len(calls) == 2
    database.engine.dispose()


def test_other_errors_are_not_retried(sqlite_database):
    calls = []

    def broken(conn):
        calls.append(1)
        conn.execute(text("SELECT * FROM no_such_table"))

    with pytest.raises(Exception) as error:
        sqlite_database.run_sync("broken", broken)
    assert not is_retryable(error.value)
    assert calls == [1]


@pytest.mark.mariadb
def test_unavailable_after_retries_then_back_by_itself(own_mariadb):
    database = Database(Settings().with_overrides(database={
        "url": own_mariadb.create_database(), "retries": 3, "connect_timeout": 1}).database)
    database.backoff = 0.01
    assert database.run_sync("ping", lambda c: c.execute(text("SELECT 1")).scalar()) == 1
    own_mariadb.stop()
    with pytest.raises(DatabaseUnavailable):
        database.run_sync("ping", lambda c: c.execute(text("SELECT 1")).scalar())
    own_mariadb.start()
    assert database.run_sync("ping", lambda c: c.execute(text("SELECT 1")).scalar()) == 1
    database.engine.dispose()


def test_queued_rows_follow_their_savepoints(database):
    from bgserver.storage.database import insert_later, savepoint
    from bgserver.storage.schema import lease

    def unit(conn):
        now = datetime.now(timezone.utc)
        insert_later(conn, lease, {"name": "before", "holder": "x", "expires_at": now})
        try:
            with savepoint(conn):
                insert_later(conn, lease, {"name": "inside", "holder": "x", "expires_at": now})
                raise ValueError("rolled back")
        except ValueError:
            pass
        with savepoint(conn):
            insert_later(conn, lease, {"name": "kept", "holder": "x", "expires_at": now})
        insert_later(conn, lease, {"name": "after", "holder": "x", "expires_at": now})
        with pytest.raises(RuntimeError, match="rows are queued"):
            conn.begin_nested()

    database.run_sync("queued", unit)
    names = database.run_sync("names", lambda c: sorted(c.execute(select(lease.c.name)).scalars()))
    assert names == ["after", "before", "kept"]
