"""bgscheduler: one leader at a time through the lease; tasks are rows, their runs are rows
queued by cron (missed ones caught up in order) or by hand, one run per task at a time,
taken over from a dead scheduler. Time is the fake clock's."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest_twisted
from pydantic import BaseModel, ConfigDict
from sqlalchemy import insert, select, update
from twisted.internet.defer import Deferred

from bgserver.billing.access import system_caller
from bgserver.config import Settings
from bgserver.events.outbox import claim_batch, emit, finish_batch, pending_count
from bgserver.scheduler.control import TaskService, add_default_tasks
from bgserver.scheduler.service import MAX_ATTEMPTS, SchedulerService
from bgserver.scheduler.tasks import TaskContext, TaskType, TaskTypes, kernel_task_types
from bgserver.storage.schema import outbox, scheduler_run, scheduler_task
from bgshared.api.scheduler import SchedulerRunCreate, SchedulerTaskCreate, SchedulerTaskPatch
from tests.support.waiting import wait_until

OPERATOR = system_caller("test")
UTC = timezone.utc


def make_scheduler(database, clock, task_types, holder, catch_up_days=31):
    context = TaskContext(database, clock, Settings())
    return SchedulerService(context, task_types, holder, tick=5, lease_seconds=30,
                            catch_up_days=catch_up_days)


class Steps(BaseModel):
    model_config = ConfigDict(extra="forbid")
    steps: int = 1


def recording(calls, name="test.hourly", fail=False, gate=None):
    """A task type that notes each run's scheduled time; with ``gate`` (a list of
    Deferreds) it waits on one per progress step."""
    waits = iter(gate or ())

    async def run(context, run):
        calls.append(run.scheduled_for)
        for step in range(run.params.steps):
            await run.progress(step, run.params.steps)
            if gate is not None:
                await next(waits)
        if fail:
            raise RuntimeError("tariff missing")
        return {"charged": len(calls)}
    return TaskType(name, "Every hour", run, "0 * * * *", params=Steps)


async def new_task(database, clock, task_types, **body):
    service = TaskService(database, clock, TaskTypes(task_types))
    return await service.create(OPERATOR, SchedulerTaskCreate(**body))


def runs(database):
    return database.run_sync("runs", lambda c: [dict(r._mapping) for r in c.execute(
        select(scheduler_run).order_by(scheduler_run.c.id))])


def at(hour, day=15):
    return datetime(2026, 1, day, hour, 0, tzinfo=UTC)


@pytest_twisted.ensureDeferred
async def test_one_leader_and_a_standby_that_takes_over(sqlite_database, clock, fake_reactor):
    a = make_scheduler(sqlite_database, clock, [], "a")
    b = make_scheduler(sqlite_database, clock, [], "b")
    await a.wake()
    await b.wake()
    assert (a.leader, b.leader) == (True, False)
    fake_reactor.advance(20)
    await a.wake()  # renewed: still a's for 30 s from now
    fake_reactor.advance(20)
    await b.wake()
    assert b.leader is False
    fake_reactor.advance(31)  # a stopped renewing
    await b.wake()
    await a.wake()
    assert (a.leader, b.leader) == (False, True)


@pytest_twisted.ensureDeferred
async def test_a_task_runs_once_per_cron_slot_and_announces_it(sqlite_database, clock,
                                                                fake_reactor):
    calls = []
    types = [recording(calls)]
    task = await new_task(sqlite_database, clock, types, type="test.hourly")
    assert task["cron"] == "0 * * * *" and task["next_run_at"] == at(13)
    scheduler = make_scheduler(sqlite_database, clock, types, "a")
    await scheduler.wake()
    assert calls == []  # 12:00 UTC: the next slot is 13:00
    fake_reactor.advance(3600)
    await scheduler.wake()
    await scheduler.idle()
    await scheduler.wake()
    fake_reactor.advance(1800)
    await scheduler.wake()
    await scheduler.idle()
    assert calls == [at(13)]
    [run] = runs(sqlite_database)
    assert (run["task_id"], run["type"], run["state"], run["holder"], run["attempts"]) == (
        task["id"], "test.hourly", "done", "a", 1)
    assert run["scheduled_for"] == at(13) and run["finished_at"] == at(13)
    assert json.loads(run["result"]) == {"charged": 1} and run["error"] is None
    assert (run["progress_done"], run["progress_total"]) == (0, 1)
    events = await sqlite_database.run("claim", claim_batch, "t", clock.now(), 10)
    finished = [e for e in events if e.type == "scheduler.run_finished"]
    assert [e.data for e in finished] == [{
        "run_id": run["id"], "task_id": task["id"], "type": "test.hourly", "state": "done",
        "result": {"charged": 1}, "error": None}]


@pytest_twisted.ensureDeferred
async def test_missed_runs_are_caught_up_in_order_after_downtime(sqlite_database, clock,
                                                                  fake_reactor):
    calls = []
    types = [recording(calls)]
    task = await new_task(sqlite_database, clock, types, type="test.hourly")
    scheduler = make_scheduler(sqlite_database, clock, types, "a")
    await scheduler.wake()
    fake_reactor.advance(5 * 3600 + 600)  # down from 12:00 to 17:10
    await scheduler.wake()
    await wait_until(lambda: len(calls) == 5 and not scheduler.active)
    assert calls == [at(13), at(14), at(15), at(16), at(17)]
    done = runs(sqlite_database)
    assert [(r["scheduled_for"], r["state"]) for r in done] == [(c, "done") for c in calls]
    # one at a time: each started when the one before had finished
    for before, after in zip(done, done[1:]):
        assert before["finished_at"] <= after["started_at"]
    fake_reactor.advance(600)
    await scheduler.wake()
    await scheduler.idle()
    assert len(calls) == 5
    assert (await TaskService(sqlite_database, clock, TaskTypes(types)).get_task(
        task["id"]))["next_run_at"] == at(18)


@pytest_twisted.ensureDeferred
async def test_catching_up_goes_back_catch_up_days_at_most(sqlite_database, clock,
                                                          fake_reactor):
    calls = []
    daily = TaskType("test.daily", "Daily", lambda context, run: _note(calls, run),
                     "0 3 * * *")
    await new_task(sqlite_database, clock, [daily], type="test.daily")
    scheduler = make_scheduler(sqlite_database, clock, [daily], "a", catch_up_days=2)
    fake_reactor.advance(timedelta(days=10).total_seconds())  # 2026-01-25 12:00 UTC
    await scheduler.wake()
    await wait_until(lambda: len(calls) == 2 and not scheduler.active)
    # 03:00 Moscow is 00:00 UTC: the 24th and 25th only
    assert calls == [at(0, 24), at(0, 25)]


async def _note(calls, run):
    calls.append(run.scheduled_for)
    return {}


@pytest_twisted.ensureDeferred
async def test_a_new_leader_does_not_repeat_a_slot_already_run(sqlite_database, clock,
                                                                fake_reactor):
    calls = []
    types = [recording(calls)]
    fake_reactor.advance(3600)
    await new_task(sqlite_database, clock, types, type="test.hourly")
    first = make_scheduler(sqlite_database, clock, types, "a")
    await first.wake()
    fake_reactor.advance(3600)
    await first.wake()
    await first.idle()
    fake_reactor.advance(60)
    second = make_scheduler(sqlite_database, clock, types, "b")
    fake_reactor.advance(31)
    await second.wake()
    await second.idle()
    assert second.leader and len(calls) == 1
    fake_reactor.advance(3600)
    await second.wake()
    await second.idle()
    assert [c.hour for c in calls] == [14, 15]


@pytest_twisted.ensureDeferred
async def test_a_failing_task_is_logged_as_failed(sqlite_database, clock, fake_reactor):
    calls = []
    types = [recording(calls, fail=True)]
    await new_task(sqlite_database, clock, types, type="test.hourly")
    scheduler = make_scheduler(sqlite_database, clock, types, "a")
    await scheduler.wake()
    fake_reactor.advance(3600)
    await scheduler.wake()
    await scheduler.idle()
    [run] = runs(sqlite_database)
    assert run["state"] == "failed" and run["result"] is None
    assert run["error"] == "RuntimeError: tariff missing"


@pytest_twisted.ensureDeferred
async def test_a_run_by_hand_reports_progress_and_runs_one_at_a_time(sqlite_database, clock,
                                                                     fake_reactor):
    calls, gate = [], [Deferred() for _ in range(6)]
    types = [recording(calls, gate=gate)]
    service = TaskService(sqlite_database, clock, TaskTypes(types))
    task = await new_task(sqlite_database, clock, types, type="test.hourly", cron=None)
    assert task["cron"] is None and task["next_run_at"] is None
    first = (await service.queue_run(OPERATOR, task["id"], SchedulerRunCreate(
        params={"steps": 3})))["run_id"]
    second = (await service.queue_run(OPERATOR, task["id"], SchedulerRunCreate()))["run_id"]
    assert (await service.get_run(first))["state"] == "queued"
    scheduler = make_scheduler(sqlite_database, clock, types, "a")
    async def run_is(run_id, key, value):
        return (await service.get_run(run_id))[key] == value
    await scheduler.wake()
    await wait_until(lambda: run_is(first, "progress", {"done": 0, "total": 3}))
    run = await service.get_run(first)
    assert run["state"] == "running" and run["params"] == {"steps": 3}
    gate[0].callback(None)  # step 1 within the same second: not stored yet
    await scheduler.wake()
    assert (await service.get_run(first))["progress"] == {"done": 0, "total": 3}
    assert (await service.get_run(second))["state"] == "queued"  # one run per task
    fake_reactor.advance(1)
    gate[1].callback(None)  # step 2, a second later: stored
    await wait_until(lambda: run_is(first, "progress", {"done": 2, "total": 3}))
    gate[2].callback(None)
    await wait_until(lambda: run_is(second, "state", "running"))
    run = await service.get_run(first)
    assert run["state"] == "done" and run["result"] == {"charged": 1}
    gate[3].callback(None)
    await scheduler.idle()
    assert (await service.get_run(second))["state"] == "done"
    listed = await service.list_runs(task["id"], None, 1)
    assert [r["id"] for r in listed["items"]] == [second]
    listed = await service.list_runs(task["id"], int(listed["next_cursor"]), 10)
    assert [r["id"] for r in listed["items"]] == [first] and listed["next_cursor"] is None


@pytest_twisted.ensureDeferred
async def test_runs_left_running_by_a_dead_scheduler_are_queued_again_or_failed(
        sqlite_database, clock, fake_reactor):
    calls = []
    types = [recording(calls)]
    task = await new_task(sqlite_database, clock, types, type="test.hourly", cron=None)

    def left_running(conn, attempts):
        return conn.execute(insert(scheduler_run).values(
            task_id=task["id"], type="test.hourly", state="running", params="{}",
            scheduled_for=clock.now(), queued_at=clock.now(), started_at=clock.now(),
            holder="dead", attempts=attempts)).inserted_primary_key[0]
    again = sqlite_database.run_sync("left", left_running, 1)
    given_up = sqlite_database.run_sync("left", left_running, MAX_ATTEMPTS)
    scheduler = make_scheduler(sqlite_database, clock, types, "a")
    await scheduler.wake()
    await scheduler.idle()
    by_id = {r["id"]: r for r in runs(sqlite_database)}
    assert (by_id[again]["state"], by_id[again]["holder"], by_id[again]["attempts"]) == (
        "done", "a", 2)
    assert by_id[given_up]["state"] == "failed"
    assert by_id[given_up]["error"] == "its scheduler (dead) stopped while running it, 3 times"
    assert len(calls) == 1


@pytest_twisted.ensureDeferred
async def test_task_edits_take_effect_at_the_next_tick(sqlite_database, clock, fake_reactor):
    calls = []
    types = [recording(calls)]
    service = TaskService(sqlite_database, clock, TaskTypes(types))
    task = await new_task(sqlite_database, clock, types, type="test.hourly")
    scheduler = make_scheduler(sqlite_database, clock, types, "a")
    await scheduler.wake()
    await service.change(OPERATOR, task["id"], SchedulerTaskPatch(enabled=False))
    fake_reactor.advance(2 * 3600)
    await scheduler.wake()
    assert calls == [] and runs(sqlite_database) == []
    # switched on again: the hours while off are not caught up
    changed = await service.change(OPERATOR, task["id"], SchedulerTaskPatch(
        enabled=True, cron="30 * * * *"))
    assert changed["next_run_at"] == at(14) + timedelta(minutes=30)
    fake_reactor.advance(3600)
    await scheduler.wake()
    await scheduler.idle()
    assert calls == [at(14) + timedelta(minutes=30)]


@pytest_twisted.ensureDeferred
async def test_a_task_of_a_type_not_in_this_build_waits(sqlite_database, clock, fake_reactor):
    calls = []
    types = [recording(calls)]
    task = await new_task(sqlite_database, clock, types, type="test.hourly")
    sqlite_database.run_sync("retype", lambda c: c.execute(
        update(scheduler_task).values(type="gone.module")))
    scheduler = make_scheduler(sqlite_database, clock, types, "a")
    fake_reactor.advance(3600)
    await scheduler.wake()
    await scheduler.idle()
    assert calls == [] and runs(sqlite_database) == []
    assert task["id"]


@pytest_twisted.ensureDeferred
async def test_kernel_tasks_are_made_once_with_their_defaults(sqlite_database, clock):
    types = TaskTypes(kernel_task_types())
    first = await sqlite_database.run("defaults", add_default_tasks, types, OPERATOR,
                                      clock.now())
    again = await sqlite_database.run("defaults", add_default_tasks, types, OPERATOR,
                                      clock.now())
    assert len(first) == 6 and again == []
    listed = (await TaskService(sqlite_database, clock, types).list_tasks())["items"]
    assert {t["type"]: (t["cron"], t["params"], t["enabled"]) for t in listed} == {
        "statuses.apply_due": ("1 0 * * *", {}, True),
        "limits.restore": ("2 0 * * *", {}, True),
        "periods.close": ("0 3 * * *", {"day": 5}, False),
        "balance.check": ("0 4 * * 0", {}, True),
        "outbox.prune": ("30 3 * * *", {}, True),
        "auth.prune_login_attempts": ("40 3 * * *", {}, True)}


@pytest_twisted.ensureDeferred
async def test_outbox_prune_task_keeps_recent_and_unpublished_events(sqlite_database, clock,
                                                                     fake_reactor):
    old = await sqlite_database.run("emit", emit, "t.old", {}, occurred_at=clock.now())
    await sqlite_database.run("emit", emit, "t.unpublished", {}, occurred_at=clock.now())
    await sqlite_database.run("finish", finish_batch, "t", [old.id], clock.now())
    fake_reactor.advance(timedelta(days=8).total_seconds())
    recent = await sqlite_database.run("emit", emit, "t.recent", {}, occurred_at=clock.now())
    await sqlite_database.run("finish", finish_batch, "t", [recent.id], clock.now())
    prune = TaskTypes(kernel_task_types()).get("outbox.prune")
    result = await prune.run(TaskContext(sqlite_database, clock, Settings()), None)
    assert result == {"deleted": 1}
    left = sqlite_database.run_sync("left", lambda c: sorted(
        c.execute(select(outbox.c.type)).scalars()))
    assert left == ["t.recent", "t.unpublished"]
    assert await sqlite_database.run("pending", pending_count) == 1
