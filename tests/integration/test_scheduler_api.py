"""The scheduler's tasks and runs over the API, on SQLite and MariaDB: validation of tasks
(type, cron, params, module instance), runs queued by hand and taken by a scheduler in the
same process, the kernel's balance check and month close."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest_twisted
from pydantic import BaseModel, ConfigDict
from sqlalchemy import insert, select, update

from bgserver.billing.errors import Invalid
from bgserver.config import Settings
from bgserver.scheduler.service import SchedulerService
from bgserver.scheduler.tasks import TaskContext, TaskType, TaskTypes, kernel_task_types
from bgserver.storage.schema import audit, balance, contract, module_instance, period
from tests.support.waiting import wait_until

D = Decimal


class ChargeDays(BaseModel):
    model_config = ConfigDict(extra="forbid")
    days: int = 1


async def _charge(context, run):
    return {"module_id": run.module_id, "days": run.params.days}


#: A module's task type, as a module type registers one.
FEES = TaskType("fees.charge", "Charge fees", _charge, "5 0 * * *", params=ChargeDays,
                module_type="fees")


def with_module_types(api):
    """The API as ``services.py`` builds it with a module type: its task type, and a check
    that the instance named exists and is of that type (here: instances 7 and 8, of
    types fees and other)."""
    def check(conn, module_id, module_type):
        if {7: "fees", 8: "other"}.get(module_id) != module_type:
            raise Invalid(f"module_id: no {module_type} instance {module_id}",
                          [{"field": "module_id", "message": "no such instance"}])
    api.services.scheduler.task_types = TaskTypes([*kernel_task_types(), FEES])
    api.services.scheduler.module_checker = check
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    api.services.database.run_sync("instances", lambda conn: conn.execute(
        insert(module_instance), [{"id": i, "type": t, "title": t, "config": "{}",
                                   "created_at": now, "updated_at": now}
                                  for i, t in ((7, "fees"), (8, "other"))]))


def scheduler_for(api, clock):
    services = api.services
    return SchedulerService(TaskContext(services.database, clock, Settings()),
                            services.scheduler.task_types, "test-scheduler")


async def run_to_end(api, clock, token, task_id, params=None):
    status, queued, _ = await api.call("POST", f"/api/v1/scheduler/tasks/{task_id}/run",
                                       token=token, json={"params": params or {}})
    assert status == 202, queued
    scheduler = scheduler_for(api, clock)
    await scheduler.wake()
    await wait_until(lambda: not scheduler.active)
    await scheduler.stopService()
    status, run, _ = await api.call("GET", f"/api/v1/scheduler/runs/{queued['run_id']}",
                                    token=token)
    assert status == 200
    return run


def fields(body):
    return [d["field"] for d in body["error"]["details"]]


@pytest_twisted.ensureDeferred
async def test_tasks_are_validated_against_their_type(api):
    with_module_types(api)
    token = await api.admin()
    path = "/api/v1/scheduler/tasks"
    refused = [
        ({"type": "no.such"}, "type"),
        ({"type": "balance.check", "cron": "61 * * * *"}, "cron"),
        ({"type": "balance.check", "cron": "0 0 * *"}, "cron"),
        ({"type": "balance.check", "cron": "0 0 0 * * *"}, "cron"),  # no seconds field
        ({"type": "periods.close", "params": {"day": 29}}, "params.day"),
        ({"type": "periods.close", "params": {"day": "fifth"}}, "params.day"),
        ({"type": "periods.close", "params": {"month": 1}}, "params.month"),
        ({"type": "balance.check", "params": {"x": 1}}, "params.x"),
        ({"type": "balance.check", "module_id": 7}, "module_id"),
        ({"type": "fees.charge"}, "module_id"),
        ({"type": "fees.charge", "module_id": 8}, "module_id"),
        ({"type": "fees.charge", "module_id": 9}, "module_id"),
        ({"type": "fees.charge", "module_id": 7, "params": {"days": "many"}}, "params.days"),
        ({"type": "fees.charge", "module_id": 7, "enabled": "maybe"}, "enabled"),
    ]
    for body, field in refused:
        status, answer, _ = await api.call("POST", path, token=token, json=body)
        assert status == 422, (body, answer)
        assert answer["error"]["code"] == "validation_failed"
        assert fields(answer) == [field], (body, answer)
    status, listed, _ = await api.call("GET", path, token=token)
    assert listed == {"items": [], "next_cursor": None}

    status, task, _ = await api.call("POST", path, token=token, json={
        "type": "fees.charge", "module_id": 7, "params": {"days": 2}, "cron": " 5  1 * * * "})
    assert status == 201, task
    assert {k: task[k] for k in ("type", "title", "module_id", "cron", "params", "enabled")} == {
        "type": "fees.charge", "title": "Charge fees", "module_id": 7, "cron": "5 1 * * *",
        "params": {"days": 2}, "enabled": True}
    # 01:05 Moscow on the 16th: 22:05 UTC on the 15th
    assert task["next_run_at"] == "2026-01-15T22:05:00+00:00"
    status, made, _ = await api.call("POST", path, token=token, json={"type": "balance.check"})
    assert made["cron"] == "0 4 * * 0" and made["params"] == {} and made["module_id"] is None

    one = f"{path}/{task['id']}"
    for body, field in [({"cron": "every day"}, "cron"), ({"params": {"days": []}}, "params.days"),
                        ({"module_id": None}, "module_id"),
                        ({"type": "periods.close"}, "params.days"),
                        ({"enabled": None}, "enabled"), ({"title": None}, "title")]:
        status, answer, _ = await api.call("PATCH", one, token=token, json=body)
        assert status == 422 and fields(answer) == [field], (body, answer)
    assert (await api.call("GET", one, token=token))[1] == task  # nothing changed
    status, changed, _ = await api.call("PATCH", one, token=token, json={
        "cron": None, "title": "Fees by hand", "params": {"days": 3}})
    assert status == 200, changed
    assert (changed["cron"], changed["title"], changed["params"], changed["next_run_at"]) == (
        None, "Fees by hand", {"days": 3}, None)
    assert (await api.call("PATCH", f"{path}/999", token=token, json={}))[0] == 404
    assert (await api.call("POST", f"{path}/999/run", token=token, json={}))[0] == 404
    assert (await api.call("GET", "/api/v1/scheduler/runs/999", token=token))[0] == 404

    status, queued, _ = await api.call("POST", one + "/run", token=token,
                                       json={"params": {"days": "x"}})
    assert status == 422 and fields(queued) == ["params.days"]
    status, queued, _ = await api.call("POST", one + "/run", token=token,
                                       json={"params": {"days": 10}})
    assert status == 202
    status, run, _ = await api.call("GET", f"/api/v1/scheduler/runs/{queued['run_id']}",
                                    token=token)
    assert {k: run[k] for k in ("task_id", "type", "state", "params", "progress", "result",
                                "error", "started_at")} == {
        "task_id": task["id"], "type": "fees.charge", "state": "queued", "params": {"days": 10},
        "progress": {"done": None, "total": None}, "result": None, "error": None,
        "started_at": None}

    database = api.services.database
    logged = database.run_sync("audit", lambda c: [(r.action, r.object_id) for r in c.execute(
        select(audit.c.action, audit.c.object_id).where(audit.c.object_type.like("scheduler%"))
        .order_by(audit.c.id))])
    assert logged == [("scheduler_task.create", str(task["id"])),
                      ("scheduler_task.create", str(made["id"])),
                      ("scheduler_task.change", str(task["id"])),
                      ("scheduler_run.queue", str(queued["run_id"]))]
    status, types, _ = await api.call("GET", "/api/v1/scheduler/task-types", token=token)
    by_name = {t["name"]: t for t in types["items"]}
    assert set(by_name) == {"statuses.apply_due", "limits.restore", "periods.close",
                            "balance.check", "outbox.prune", "auth.prune_login_attempts",
                            "fees.charge"}
    assert by_name["fees.charge"]["module_type"] == "fees"
    assert by_name["periods.close"]["params"]["properties"]["day"]["maximum"] == 28


@pytest_twisted.ensureDeferred
async def test_a_run_by_hand_is_taken_by_the_scheduler_and_done(api, clock):
    with_module_types(api)
    token = await api.admin()
    status, task, _ = await api.call("POST", "/api/v1/scheduler/tasks", token=token, json={
        "type": "fees.charge", "module_id": 7})
    run = await run_to_end(api, clock, token, task["id"], {"days": 4})
    assert (run["state"], run["result"], run["error"]) == (
        "done", {"module_id": 7, "days": 4}, None)
    assert run["queued_at"] == run["started_at"] == run["finished_at"] == clock.now().isoformat()
    status, listed, _ = await api.call(
        "GET", f"/api/v1/scheduler/runs?task_id={task['id']}", token=token)
    assert [r["id"] for r in listed["items"]] == [run["id"]]
    status, listed, _ = await api.call("GET", "/api/v1/scheduler/runs?task_id=999", token=token)
    assert listed["items"] == []


async def contracts_with_money(api, token):
    """Two contracts with payments and charges over November, December and January."""
    made = []
    for title in ("Ivanov", "Petrov"):
        status, created, _ = await api.call("POST", "/api/v1/contracts", token=token, json={
            "title": title, "mode": "postpaid", "date_from": "2025-11-01"})
        assert status == 201, created
        made.append(created["id"])
    for contract_id, moves in zip(made, [
            [("payments", "100.00", "2025-11-10"), ("charges", "30.50", "2025-12-01"),
             ("payments", "7.25", "2026-01-15")],
            [("charges", "12.00", "2025-12-20"), ("payments", "50.00", "2026-01-02")]]):
        for kind, amount, day in moves:
            status, body, _ = await api.call(
                "POST", f"/api/v1/contracts/{contract_id}/{kind}", token=token,
                json={"amount": amount, "date": day})
            assert status == 201, body
    return made


@pytest_twisted.ensureDeferred
async def test_balance_check_reports_balances_broken_by_hand_and_corrects_nothing(api, clock):
    token = await api.admin()
    ivanov, petrov = await contracts_with_money(api, token)
    status, task, _ = await api.call("POST", "/api/v1/scheduler/tasks", token=token,
                                     json={"type": "balance.check", "cron": None})
    run = await run_to_end(api, clock, token, task["id"])
    assert run["state"] == "done" and run["progress"] == {"done": 2, "total": 2}
    assert run["result"] == {"contracts": 2, "contracts_differing": 0, "differences": 0,
                             "listed": []}

    database = api.services.database

    def break_them(conn):
        conn.execute(update(contract).where(contract.c.id == ivanov)
                     .values(balance=contract.c.balance + D("0.01")))
        conn.execute(update(balance).where(balance.c.contract_id == petrov,
                                           balance.c.month == "2025-12-01")
                     .values(charges=D("21.00")))
    database.run_sync("break", break_them)
    run = await run_to_end(api, clock, token, task["id"])
    assert run["state"] == "done"
    assert run["result"] == {"contracts": 2, "contracts_differing": 2, "differences": 2,
                             "listed": [
        {"contract_id": ivanov, "month": None, "field": "balance", "stored": "76.76",
         "expected": "76.75"},
        {"contract_id": petrov, "month": "2025-12", "field": "charges", "stored": "21.00",
         "expected": "12.00"}]}
    # reported, not corrected
    stored = database.run_sync("read", lambda c: c.execute(
        select(contract.c.balance).where(contract.c.id == ivanov)).scalar_one())
    assert stored == D("76.76")

    def break_chain(conn):
        # a month row whose incoming no longer follows the month before, and one gone
        conn.execute(update(balance).where(balance.c.contract_id == ivanov,
                                           balance.c.month == "2026-01-01")
                     .values(incoming=D("0.00")))
        conn.execute(balance.delete().where(balance.c.contract_id == petrov,
                                            balance.c.month == "2026-01-01"))
    database.run_sync("break", break_chain)
    run = await run_to_end(api, clock, token, task["id"])
    listed = [(d["contract_id"], d["month"], d["field"]) for d in run["result"]["listed"]]
    assert listed == [(ivanov, "2026-01", "incoming"), (ivanov, None, "balance"),
                      (petrov, "2025-12", "charges"), (petrov, "2026-01", "row")]
    assert run["result"]["listed"][3]["expected"] == {
        "incoming": "-12.00", "payments": "50.00", "charges": "0.00", "usage": "0.00",
        "outgoing": "38.00"}


@pytest_twisted.ensureDeferred
async def test_periods_close_closes_the_previous_month_from_its_day_on(api, clock,
                                                                      fake_reactor):
    token = await api.admin()
    status, task, _ = await api.call("POST", "/api/v1/scheduler/tasks", token=token, json={
        "type": "periods.close", "params": {"day": 20}, "cron": None})
    run = await run_to_end(api, clock, token, task["id"])  # the 15th
    assert run["result"] == {"closed": None, "month": "2025-12",
                             "reason": "closed from day 20 on"}
    run = await run_to_end(api, clock, token, task["id"], {"day": 15})
    assert run["result"] == {"closed": "2025-12", "month": "2025-12"}
    run = await run_to_end(api, clock, token, task["id"], {"day": 15})
    assert run["result"] == {"closed": None, "month": "2025-12", "reason": "closed already"}
    closed = api.services.database.run_sync("periods", lambda c: [
        (r.month.isoformat(), r.actor_name) for r in c.execute(select(period))])
    assert closed == [("2025-12-01", "scheduler")]


@pytest_twisted.ensureDeferred
async def test_missed_cron_runs_are_caught_up_in_order(api, clock, fake_reactor):
    token = await api.admin()
    status, task, _ = await api.call("POST", "/api/v1/scheduler/tasks", token=token, json={
        "type": "balance.check", "cron": "0 * * * *"})
    scheduler = scheduler_for(api, clock)
    await scheduler.wake()
    fake_reactor.advance(3 * 3600 + 600)  # down from 12:00 to 15:10 UTC
    token = await api.admin()  # the session before has expired meanwhile
    await scheduler.wake()

    async def finished():
        status, listed, _ = await api.call(
            "GET", f"/api/v1/scheduler/runs?task_id={task['id']}", token=token)
        return listed if all(r["state"] == "done" for r in listed["items"]) else None
    await wait_until(finished)
    await scheduler.stopService()
    listed = await finished()
    assert [(r["scheduled_for"], r["state"]) for r in reversed(listed["items"])] == [
        (f"2026-01-15T{hour}:00:00+00:00", "done") for hour in (13, 14, 15)]
