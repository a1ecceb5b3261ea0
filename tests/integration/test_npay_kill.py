"""A bgscheduler killed with SIGKILL in the middle of a 10,000-contract fee run, and started
again, ends with exactly the charges of an uninterrupted run: each contract each day once,
to the kopeck. Real ``twistd -n bgscheduler`` processes on MariaDB."""

from __future__ import annotations

import json
import signal
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, func, insert, select

from bgserver.modules.npay.tables import npay_charge
from bgserver.storage.schema import (charge, contract, contract_status, contract_tariff,
                                     module_instance, scheduler_run, scheduler_task, service,
                                     tariff_module, tariff_plan)
from tests.support.processes import BillingProcess, base_env, run_cli
from tests.support.services import wait_for

pytestmark = [pytest.mark.mariadb, pytest.mark.slow]

CONTRACTS = 10_000
MONTHLY = Decimal("300.00")
DAYS = 3


def share(day: date) -> Decimal:
    """Day k of a month of D days at 300.00: round(300k/D) - round(300(k-1)/D)."""
    days_in_month = ((day.replace(day=28) + timedelta(days=4)).replace(day=1)
                     - timedelta(days=1)).day

    def cumulative(k: int) -> Decimal:
        return (MONTHLY * k / days_in_month).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return cumulative(day.day) - cumulative(day.day - 1)


def populate(engine, first: date, last: date) -> int:
    """10,000 postpaid contracts on a daily 300.00 plan since ``first``, and a queued run
    of the instance's npay.charge task for ``first``..``last``; returns the run id."""
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        module_id = conn.execute(insert(module_instance).values(
            type="npay", title="Fees", config='{"charge_type_id": 4, "refund_type_id": 3}',
            enabled=True, created_at=now, updated_at=now)).inserted_primary_key[0]
        service_id = conn.execute(insert(service).values(
            module_id=module_id, title="Subscription", unit="month", enabled=True,
            created_at=now)).inserted_primary_key[0]
        tariff_id = conn.execute(insert(tariff_plan).values(
            title="Daily 300", cabinet_title="", enabled=True, created_at=now,
            updated_at=now)).inserted_primary_key[0]
        conn.execute(insert(tariff_module).values(tariff_id=tariff_id, module_id=module_id,
                                                  config=json.dumps({"fees": [{
                                                      "service_id": service_id,
                                                      "amount": "300.00"}]})))
        conn.execute(insert(contract), [
            {"id": n, "number": f"K-{n:05d}", "title": f"Subscriber {n}", "mode": "postpaid",
             "date_from": first, "comment": "", "created_at": now, "updated_at": now}
            for n in range(1, CONTRACTS + 1)])
        actor = {"actor_type": "system", "actor_id": None, "actor_name": "test"}
        conn.execute(insert(contract_status), [
            {"contract_id": n, "status": "active", "date_from": first, "comment": "",
             "applied": True, "created_at": now, **actor} for n in range(1, CONTRACTS + 1)])
        conn.execute(insert(contract_tariff), [
            {"contract_id": n, "tariff_id": tariff_id, "date_from": first, "comment": "",
             "created_at": now, **actor} for n in range(1, CONTRACTS + 1)])
        task_id = conn.execute(insert(scheduler_task).values(
            type="npay.charge", title="Fees", module_id=module_id, cron=None, params="{}",
            enabled=True, fired_through=now, created_at=now, updated_at=now)
        ).inserted_primary_key[0]
        return conn.execute(insert(scheduler_run).values(
            task_id=task_id, type="npay.charge", state="queued", scheduled_for=now,
            queued_at=now, attempts=0,
            params=json.dumps({"from": first.isoformat(), "to": last.isoformat()}))
        ).inserted_primary_key[0]


def count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_a_fee_run_killed_midway_and_resumed_charges_exactly_once(mariadb, tmp_path):
    url = mariadb.create_database()
    env = base_env(BG_DATABASE__URL=url, BG_SCHEDULER__TICK="0.2",
                   BG_SCHEDULER__LEASE_SECONDS="3")
    run_cli(["init"], env, tmp_path)
    engine = create_engine(url)
    today = datetime.now(ZoneInfo("Europe/Moscow")).date()
    days = [today - timedelta(days=n) for n in reversed(range(DAYS))]
    run_id = populate(engine, days[0], days[-1])

    first = BillingProcess("bgscheduler", env, tmp_path / "first").start()
    try:
        # killed once it is well into the second day
        wait_for(lambda: count(engine, npay_charge) >= CONTRACTS * 1.3, 600,
                 "the fee run under way")
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(30)
        at_kill = count(engine, npay_charge)
    finally:
        first.stop()
    assert at_kill < CONTRACTS * DAYS, "the run ended before it was killed"
    second = BillingProcess("bgscheduler", env, tmp_path / "second").start()
    try:
        def finished():
            with engine.connect() as conn:
                return conn.execute(select(scheduler_run.c.state).where(
                    scheduler_run.c.id == run_id)).scalar_one() in ("done", "failed")
        wait_for(finished, 900, "the fee run finished by the second scheduler")
    finally:
        second.stop()

    with engine.connect() as conn:
        run = conn.execute(select(scheduler_run).where(scheduler_run.c.id == run_id)).one()
        rows = conn.execute(select(charge.c.contract_id, charge.c.date, charge.c.amount)).all()
        keys = conn.execute(select(npay_charge.c.contract_id, npay_charge.c.day)).all()
        balances = dict(conn.execute(select(contract.c.id, contract.c.balance)).all())
    assert (run.state, run.attempts) == ("done", 2), run
    # exactly one charge per contract and day, of the day's share
    assert len(rows) == len(keys) == CONTRACTS * DAYS
    assert Counter((r.contract_id, r.date) for r in rows) == Counter(
        {(n, d): 1 for n in range(1, CONTRACTS + 1) for d in days})
    expected = {d: share(d) for d in days}
    assert all(r.amount == expected[r.date] for r in rows)
    total = sum(expected.values())
    assert set(balances.values()) == {-total}
    print(f"killed at {at_kill} of {CONTRACTS * DAYS} charges; resumed to exactly "
          f"{len(rows)}; each contract {total}")
