"""npay.charge as operators use it: an npay instance comes with its task; a run by hand
catches up past days through the scheduler; the cron run charges its own day. SQLite and
MariaDB; amounts worked out by hand."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest_twisted

from sqlalchemy import func, select

from bgserver.storage.schema import scheduler_run
from tests.integration.test_scheduler_api import run_to_end, scheduler_for
from tests.integration.test_tariffs import instance_with_service, ok
from tests.support.waiting import wait_until


def finished_runs(api) -> int:
    return api.services.database.run_sync("runs", lambda c: c.execute(
        select(func.count()).select_from(scheduler_run).where(
            scheduler_run.c.state.in_(["done", "failed"]))).scalar_one())


async def fees_setup(api, token, amount="310.00"):
    """An npay instance (its task made with it), a daily fee plan, a contract on it from
    2026-01-01 (January has 31 days: 310.00 a month is exactly 10.00 a day)."""
    module, svc = await instance_with_service(api, token)
    plan = await ok(api, token, "POST", "/api/v1/tariffs", {
        "title": "Daily", "modules": {str(module["id"]): {"fees": [
            {"service_id": svc["id"], "amount": amount}]}}}, 201)
    contract = await ok(api, token, "POST", "/api/v1/contracts", {
        "title": "Ivanov", "date_from": "2026-01-01", "mode": "postpaid"}, 201)
    await ok(api, token, "POST", f"/api/v1/contracts/{contract['id']}/tariffs",
             {"tariff_id": plan["id"], "from": "2026-01-01"}, 201)
    tasks = (await ok(api, token, "GET", "/api/v1/scheduler/tasks"))["items"]
    task = next(t for t in tasks if t["type"] == "npay.charge")
    assert (task["module_id"], task["cron"], task["enabled"]) == (module["id"], "10 0 * * *",
                                                                  True)
    return module, contract, task


@pytest_twisted.ensureDeferred
async def test_a_run_by_hand_catches_up_days_and_a_second_one_charges_nothing(api, clock):
    token = await api.admin()
    module, contract, task = await fees_setup(api, token, "300.00")
    run = await run_to_end(api, clock, token, task["id"],
                           {"from": "2026-01-01", "to": "2026-01-15"})
    assert run["state"] == "done", run
    # 300.00 over 31 days: day k costs round(300k/31) - round(300(k-1)/31); the first 15
    # days sum to round(300 * 15 / 31) = round(145.161...) = 145.16
    assert run["result"]["charged"] == "145.16"
    assert run["progress"] == {"done": 15, "total": 15}
    balance = await ok(api, token, "GET", f"/api/v1/contracts/{contract['id']}/balance")
    assert (balance["charges"], balance["outgoing"]) == ("145.16", "-145.16")
    again = await run_to_end(api, clock, token, task["id"],
                             {"from": "2026-01-01", "to": "2026-01-15"})
    assert again["state"] == "done" and again["result"]["charged"] == "0.00"
    charges = (await ok(api, token, "GET", f"/api/v1/contracts/{contract['id']}/charges"
                                           "?limit=500"))["items"]
    assert len(charges) == 15
    # day 1: round(9.677) = 9.68; day 2: round(19.354) - 9.68 = 19.35 - 9.68 = 9.67
    assert [c["amount"] for c in charges[:2]] == ["9.68", "9.67"]
    assert {(c["module_id"], c["type_id"]) for c in charges} == {(module["id"], 4)}


@pytest_twisted.ensureDeferred
async def test_the_daily_run_charges_its_day_and_missed_days_in_order(api, clock,
                                                                       fake_reactor):
    token = await api.admin()
    module, contract, task = await fees_setup(api, token)
    scheduler = scheduler_for(api, clock)
    # the task fired through its creation time (2026-01-15 12:00 UTC); the scheduler is
    # down until three days later: the runs of the 16th, 17th and 18th come in order
    fake_reactor.advance(timedelta(days=3).total_seconds())
    await scheduler.wake()
    await wait_until(lambda: finished_runs(api) == 3)
    await scheduler.stopService()
    token = await api.admin()  # the first session has long expired
    runs = (await ok(api, token, "GET", f"/api/v1/scheduler/runs?task_id={task['id']}"))
    done = sorted(runs["items"], key=lambda r: r["id"])
    assert [r["state"] for r in done] == ["done"] * 3
    assert [r["result"]["from"] for r in done] == ["2026-01-16", "2026-01-17", "2026-01-18"]
    charges = (await ok(api, token, "GET",
                        f"/api/v1/contracts/{contract['id']}/charges"))["items"]
    # 310.00 over January's 31 days is exactly 10.00 a day
    assert [(c["date"], c["amount"]) for c in charges] == [
        ("2026-01-16", "10.00"), ("2026-01-17", "10.00"), ("2026-01-18", "10.00")]
    assert clock.now() == datetime(2026, 1, 18, 12, 0, tzinfo=timezone.utc)
