"""bgscheduler: one leader at a time through the lease, tasks on their cron times, runs
logged with their result and announced as events. Time is the fake clock's."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest_twisted
from sqlalchemy import select

from bgserver.config import Settings
from bgserver.scheduler.service import SchedulerService
from bgserver.scheduler.tasks import Task, TaskContext, TaskRegistry, builtin_tasks
from bgserver.events.outbox import claim_batch, emit, finish_batch, pending_count
from bgserver.storage.schema import outbox, scheduler_run


def make_scheduler(database, clock, registry, holder):
    context = TaskContext(database, clock, Settings())
    return SchedulerService(context, registry, holder, tick=5, lease_seconds=30)


def recording_registry(calls, fail=False):
    async def hourly(context):
        calls.append(context.clock.now())
        if fail:
            raise RuntimeError("tariff missing")
        return {"charged": len(calls)}
    registry = TaskRegistry()
    registry.register(Task("test.hourly", "Every hour", "0 * * * *", hourly))
    return registry


def runs(database):
    return database.run_sync("runs", lambda c: [dict(r._mapping) for r in c.execute(
        select(scheduler_run).order_by(scheduler_run.c.id))])


@pytest_twisted.ensureDeferred
async def test_one_leader_and_a_standby_that_takes_over(sqlite_database, clock, fake_reactor):
    a = make_scheduler(sqlite_database, clock, TaskRegistry(), "a")
    b = make_scheduler(sqlite_database, clock, TaskRegistry(), "b")
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
async def test_task_runs_once_per_cron_slot(sqlite_database, clock, fake_reactor):
    calls = []
    scheduler = make_scheduler(sqlite_database, clock, recording_registry(calls), "a")
    await scheduler.wake()
    assert calls == []  # 12:00 UTC start: the next slot is 13:00
    fake_reactor.advance(3600)
    await scheduler.wake()
    await scheduler.running_tasks["test.hourly"]
    await scheduler.wake()
    fake_reactor.advance(1800)
    await scheduler.wake()
    assert [c.hour for c in calls] == [13]
    [run] = runs(sqlite_database)
    assert run["task"] == "test.hourly" and run["status"] == "done"
    assert json.loads(run["result"]) == {"charged": 1}
    assert run["finished_at"] == clock.now() - timedelta(seconds=1800)
    events = await sqlite_database.run("claim", claim_batch, "t", clock.now(), 10)
    finished = [e for e in events if e.type == "scheduler.run_finished"]
    assert finished[0].data == {"run_id": run["id"], "task": "test.hourly", "status": "done",
                                "result": {"charged": 1}}


@pytest_twisted.ensureDeferred
async def test_a_new_leader_does_not_repeat_a_slot_already_run(sqlite_database, clock,
                                                                fake_reactor):
    calls = []
    fake_reactor.advance(3600)
    first = make_scheduler(sqlite_database, clock, recording_registry(calls), "a")
    await first.wake()
    fake_reactor.advance(3600)
    await first.wake()
    await first.running_tasks["test.hourly"]
    fake_reactor.advance(60)
    second = make_scheduler(sqlite_database, clock, recording_registry(calls), "b")
    fake_reactor.advance(31)
    await second.wake()
    assert second.leader and len(calls) == 1
    fake_reactor.advance(3600)
    await second.wake()
    await second.running_tasks["test.hourly"]
    assert [c.hour for c in calls] == [14, 15]


@pytest_twisted.ensureDeferred
async def test_a_failing_task_is_logged_as_failed(sqlite_database, clock, fake_reactor):
    calls = []
    scheduler = make_scheduler(sqlite_database, clock, recording_registry(calls, fail=True), "a")
    await scheduler.wake()
    fake_reactor.advance(3600)
    await scheduler.wake()
    await scheduler.running_tasks["test.hourly"]
    [run] = runs(sqlite_database)
    assert run["status"] == "failed"
    assert "tariff missing" in json.loads(run["result"])["error"]


@pytest_twisted.ensureDeferred
async def test_outbox_prune_task_keeps_recent_and_unpublished_events(sqlite_database, clock,
                                                                     fake_reactor):
    old = await sqlite_database.run("emit", emit, "t.old", {}, occurred_at=clock.now())
    await sqlite_database.run("emit", emit, "t.unpublished", {}, occurred_at=clock.now())
    await sqlite_database.run("finish", finish_batch, "t", [old.id], clock.now())
    fake_reactor.advance(timedelta(days=8).total_seconds())
    recent = await sqlite_database.run("emit", emit, "t.recent", {}, occurred_at=clock.now())
    await sqlite_database.run("finish", finish_batch, "t", [recent.id], clock.now())
    prune = builtin_tasks().get("outbox.prune")
    result = await prune.run(TaskContext(sqlite_database, clock, Settings()))
    assert result == {"deleted": 1}
    left = sqlite_database.run_sync("left", lambda c: sorted(
        c.execute(select(outbox.c.type)).scalars()))
    assert left == ["t.recent", "t.unpublished"]
    assert await sqlite_database.run("pending", pending_count) == 1
