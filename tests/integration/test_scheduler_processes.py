"""Two ``twistd -n bgscheduler`` processes on one MariaDB: only the lease holder runs
anything, and when it is killed the standby takes over within the lease time."""

from __future__ import annotations

import signal
import socket
import time
from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine, insert, select

from bgserver.storage.schema import scheduler_run, scheduler_task
from tests.support.processes import BillingProcess, base_env, run_cli
from tests.support.services import wait_for

pytestmark = [pytest.mark.mariadb, pytest.mark.slow]

LEASE_SECONDS = 3


def queue(engine, task_ids: dict[str, int]) -> None:
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        conn.execute(insert(scheduler_run), [
            {"task_id": task_id, "type": name, "state": "queued", "params": "{}",
             "scheduled_for": now, "queued_at": now, "attempts": 0}
            for name, task_id in task_ids.items()])


def all_runs(engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(
            select(scheduler_run).order_by(scheduler_run.c.started_at, scheduler_run.c.id))]


def test_two_schedulers_never_run_at_once_and_the_standby_takes_over(mariadb, tmp_path):
    url = mariadb.create_database()
    env = base_env(BG_DATABASE__URL=url, BG_SCHEDULER__TICK="0.2",
                   BG_SCHEDULER__LEASE_SECONDS=str(LEASE_SECONDS))
    run_cli(["init"], env, tmp_path)
    engine = create_engine(url)
    with engine.connect() as conn:
        task_ids = {r.type: r.id for r in conn.execute(select(
            scheduler_task.c.type, scheduler_task.c.id).where(
            scheduler_task.c.type.in_(("balance.check", "outbox.prune"))))}
    first = BillingProcess("bgscheduler", env, tmp_path / "first").start()
    second = BillingProcess("bgscheduler", env, tmp_path / "second")
    try:
        first.wait_log(r"took the lease: running tasks")
        second.start()
        second.wait_log(r"announced \S+ as process.started")
        holders = {p: f"bgscheduler@{socket.gethostname()}:{p.process.pid}" for p in (first, second)}

        def feed_until(enough) -> None:
            deadline = time.monotonic() + 60
            while not enough():
                assert time.monotonic() < deadline, "runs not done in time"
                queue(engine, task_ids)
                time.sleep(0.1)

        feed_until(lambda: sum(r["state"] == "done" for r in all_runs(engine)) >= 20)
        first.process.send_signal(signal.SIGKILL)
        killed_at = datetime.now(timezone.utc)
        killed = time.monotonic()
        second.wait_log(r"took the lease: running tasks", timeout=60)
        took_over = time.monotonic() - killed
        feed_until(lambda: sum(r["holder"] == holders[second] and r["state"] == "done"
                               for r in all_runs(engine)) >= 20)
        wait_for(lambda: all(r["state"] == "done" for r in all_runs(engine)), 60,
                 "every run done")
    finally:
        first.stop()
        second.stop()
    assert took_over < 60
    assert took_over < LEASE_SECONDS + 5, took_over
    runs = all_runs(engine)
    # the standby started nothing while the leader lived; the leader nothing after
    assert {r["holder"] for r in runs} == set(holders.values())
    for run in runs:
        if run["holder"] == holders[first]:
            assert run["started_at"] < killed_at
        else:
            assert run["started_at"] > killed_at or run["attempts"] == 2, run
    # and no task ran twice at once
    for task_id in task_ids.values():
        mine = [r for r in runs if r["task_id"] == task_id]
        for before, after in zip(mine, mine[1:]):
            assert before["finished_at"] <= after["started_at"], (before, after)
    print(f"standby took over {took_over:.1f} s after the leader was killed "
          f"(lease {LEASE_SECONDS} s)")

