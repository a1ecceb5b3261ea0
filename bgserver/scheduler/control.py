"""The scheduler's tasks and runs as the API drives them: tasks created and changed with
validation, runs queued by hand and read back. The leading bgscheduler takes the queued
runs (:mod:`bgserver.scheduler.service`); this side only writes rows, so it works in any
bgserver process.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from sqlalchemy.engine import Connection

from bgserver.billing import audit
from bgserver.billing.access import Caller
from bgserver.billing.errors import Invalid, NotFound
from bgserver.billing.paging import page, page_size
from bgserver.events.outbox import emit
from bgserver.scheduler import cron
from bgserver.scheduler.tasks import TaskType, TaskTypes
from bgserver.storage import scheduler as store
from bgshared import wire
from bgshared.api.scheduler import SchedulerRunCreate, SchedulerTaskCreate, SchedulerTaskPatch

#: ``check(conn, module_id, module_type)``: raises Invalid unless the module instance
#: exists and is of that type. Run in the transaction that stores the task.
ModuleChecker = Callable[[Connection, int, str], None]


def task_view(row: dict[str, Any], zone: Any) -> dict[str, Any]:
    due = None
    if row["enabled"] and row["cron"]:
        due = cron.next_fire(row["cron"], row["fired_through"], zone)
    return {"id": row["id"], "type": row["type"], "title": row["title"],
            "module_id": row["module_id"], "cron": row["cron"],
            "params": wire.loads(row["params"]), "enabled": row["enabled"],
            "next_run_at": due, "created_at": row["created_at"],
            "updated_at": row["updated_at"]}


def run_view(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "task_id": row["task_id"], "type": row["type"],
            "state": row["state"], "params": wire.loads(row["params"]),
            "scheduled_for": row["scheduled_for"],
            "progress": {"done": row["progress_done"], "total": row["progress_total"]},
            "result": None if row["result"] is None else wire.loads(row["result"]),
            "error": row["error"], "attempts": row["attempts"],
            "queued_at": row["queued_at"], "started_at": row["started_at"],
            "finished_at": row["finished_at"]}


def _invalid(field: str, message: str) -> Invalid:
    return Invalid(f"{field}: {message}", [{"field": field, "message": message}])


def check_task(conn: Connection, task_types: TaskTypes, checker: ModuleChecker | None,
               values: dict[str, Any]) -> tuple[TaskType, dict[str, Any]]:
    """A task's columns checked against its type; its params as stored."""
    task_type = task_types.get(values["type"])
    if task_type is None:
        raise _invalid("type", f"unknown task type {values['type']!r}; known: "
                       f"{', '.join(t.name for t in task_types)}")
    values["cron"] = cron.check(values["cron"])
    params = task_type.dump_params(task_type.check_params(values["params"]))
    if task_type.module_type is None:
        if values["module_id"] is not None:
            raise _invalid("module_id", f"{task_type.name} is the kernel's: it takes no "
                           f"module instance")
    else:
        if values["module_id"] is None:
            raise _invalid("module_id", f"{task_type.name} needs a module instance of type "
                           f"{task_type.module_type}")
        if checker is not None:
            checker(conn, values["module_id"], task_type.module_type)
    return task_type, params


def add_default_tasks(conn: Connection, task_types: TaskTypes, caller: Caller, now: datetime,
                      module_type: str | None = None,
                      module_id: int | None = None) -> list[int]:
    """A task of each type of ``module_type`` (None: the kernel's) that has none yet for
    this module instance, with the type's default cron; safe to run again."""
    present = store.task_types_present(conn)
    created = []
    for task_type in task_types:
        if task_type.module_type != module_type or (task_type.name, module_id) in present:
            continue
        values = {"type": task_type.name, "title": task_type.title, "module_id": module_id,
                  "cron": task_type.default_cron,
                  "params": wire.dumps(task_type.dump_params(task_type.check_params({}))),
                  "enabled": task_type.default_enabled, "fired_through": now,
                  "created_at": now, "updated_at": now}
        task_id = store.insert_task(conn, values)
        audit.record(conn, caller, "scheduler_task.create", "scheduler_task", task_id,
                     now=now, after={k: v for k, v in values.items()
                                     if k not in ("fired_through", "created_at", "updated_at")})
        created.append(task_id)
    return created


class TaskService:
    def __init__(self, database: Any, clock: Any, task_types: TaskTypes,
                 module_checker: ModuleChecker | None = None):
        self.database = database
        self.clock = clock
        self.task_types = task_types
        self.module_checker = module_checker

    def types(self) -> list[dict[str, Any]]:
        return [{"name": t.name, "title": t.title, "module_type": t.module_type,
                 "default_cron": t.default_cron,
                 "params": None if t.params is None else t.params.model_json_schema()}
                for t in self.task_types]

    async def list_tasks(self) -> dict[str, Any]:
        rows = await self.database.run("list_scheduler_tasks", store.list_tasks, readonly=True)
        return {"items": [task_view(r, self.clock.zone) for r in rows], "next_cursor": None}

    async def get_task(self, task_id: int) -> dict[str, Any]:
        row = await self.database.run("get_scheduler_task", store.get_task, task_id,
                                      readonly=True)
        if row is None:
            raise NotFound(f"no scheduler task {task_id}")
        return task_view(row, self.clock.zone)

    async def create(self, caller: Caller, body: SchedulerTaskCreate) -> dict[str, Any]:
        now = self.clock.now()

        def create(conn):
            values = body.model_dump()
            if "cron" not in body.model_fields_set:
                task_type = self.task_types.get(body.type)
                values["cron"] = task_type.default_cron if task_type else None
            task_type, params = check_task(conn, self.task_types, self.module_checker, values)
            values.update(params=wire.dumps(params), title=body.title or task_type.title,
                          fired_through=now, created_at=now, updated_at=now)
            task_id = store.insert_task(conn, values)
            created = task_view({**values, "id": task_id}, self.clock.zone)
            audit.record(conn, caller, "scheduler_task.create", "scheduler_task", task_id,
                         now=now, after=created)
            return created

        return await self.database.run("create_scheduler_task", create)

    async def change(self, caller: Caller, task_id: int,
                     body: SchedulerTaskPatch) -> dict[str, Any]:
        now = self.clock.now()
        given = body.model_dump(include=body.model_fields_set)
        for name in ("type", "title", "params", "enabled"):
            if name in given and given[name] is None:
                raise _invalid(name, "may not be null")

        def change(conn):
            row = store.get_task(conn, task_id, lock=True)
            if row is None:
                raise NotFound(f"no scheduler task {task_id}")
            before = task_view(row, self.clock.zone)
            values = {"type": row["type"], "module_id": row["module_id"], "cron": row["cron"],
                      "params": before["params"], **given}
            _, params = check_task(conn, self.task_types, self.module_checker, values)
            changes = {**given, "cron": values["cron"], "params": wire.dumps(params),
                       "updated_at": now}
            if "cron" not in given:
                del changes["cron"]
            if ("cron" in given and values["cron"] != row["cron"]) or (
                    given.get("enabled") and not row["enabled"]):
                # a new schedule, or a task switched back on, starts from now: the fire
                # times before were not missed, they were not wanted
                changes["fired_through"] = now
            store.update_task(conn, task_id, changes)
            after = task_view({**row, **changes}, self.clock.zone)
            audit.record(conn, caller, "scheduler_task.change", "scheduler_task", task_id,
                         now=now, before=before, after=after)
            return after

        return await self.database.run("change_scheduler_task", change)

    async def queue_run(self, caller: Caller, task_id: int,
                        body: SchedulerRunCreate) -> dict[str, Any]:
        """A run by hand: a queued row that the leading bgscheduler takes."""
        now = self.clock.now()

        def queue(conn):
            row = store.get_task(conn, task_id)
            if row is None:
                raise NotFound(f"no scheduler task {task_id}")
            task_type = self.task_types.get(row["type"])
            if task_type is None:
                raise _invalid("type", f"task type {row['type']!r} is not in this build")
            params = task_type.dump_params(task_type.check_params(
                {**wire.loads(row["params"]), **body.params}))
            values = {"task_id": task_id, "type": row["type"], "params": wire.dumps(params),
                      "scheduled_for": now, "queued_at": now}
            run_id = store.insert_run(conn, values)
            audit.record(conn, caller, "scheduler_run.queue", "scheduler_run", run_id, now=now,
                         after={"task_id": task_id, "type": row["type"], "params": params})
            emit(conn, "scheduler.run_queued", {"run_id": run_id, "task_id": task_id,
                                                "type": row["type"]}, occurred_at=now)
            return {"run_id": run_id}

        return await self.database.run("queue_scheduler_run", queue)

    async def get_run(self, run_id: int) -> dict[str, Any]:
        row = await self.database.run("get_scheduler_run", store.get_run, run_id,
                                      readonly=True)
        if row is None:
            raise NotFound(f"no scheduler run {run_id}")
        return run_view(row)

    async def list_runs(self, task_id: int | None, before_id: int | None,
                        limit: int) -> dict[str, Any]:
        size = page_size(limit)
        rows = await self.database.run("list_scheduler_runs", store.list_runs, task_id,
                                       before_id, size + 1, readonly=True)
        return page([run_view(r) for r in rows], size)
