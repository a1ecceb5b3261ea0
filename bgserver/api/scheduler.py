"""The scheduler's tasks and runs: task types (code), tasks (rows: type, module instance,
cron in the billing time zone, params, enabled), runs queued by hand and read back."""

from __future__ import annotations

from typing import Any

from bgserver.api.routing import Api, Reply
from bgshared.api.scheduler import SchedulerRunCreate, SchedulerTaskCreate, SchedulerTaskPatch

TASK = "/api/v1/scheduler/tasks/<int:task_id>"


def register(api: Api, s: Any) -> None:
    @api.route("GET", "/api/v1/scheduler/task-types", "scheduler.run",
               "Task types: the kernel's and the module types', with their params schema")
    async def task_types(call):
        return {"items": s.scheduler.types(), "next_cursor": None}

    @api.route("GET", "/api/v1/scheduler/tasks", "scheduler.run", "Scheduler tasks")
    async def list_tasks(call):
        return await s.scheduler.list_tasks()

    @api.route("POST", "/api/v1/scheduler/tasks", "scheduler.write",
               "Create a task: a type, its module instance (for a module's types), cron "
               "in the billing time zone (null: by hand only), params", body=SchedulerTaskCreate)
    async def create_task(call):
        return Reply(await s.scheduler.create(call.caller, call.body), 201)

    @api.route("GET", TASK, "scheduler.run", "A scheduler task")
    async def get_task(call):
        return await s.scheduler.get_task(call.params["task_id"])

    @api.route("PATCH", TASK, "scheduler.write",
               "Change a task (only the fields given); the leading scheduler follows at its "
               "next tick", body=SchedulerTaskPatch)
    async def change_task(call):
        return await s.scheduler.change(call.caller, call.params["task_id"], call.body)

    @api.route("POST", TASK + "/run", "scheduler.run",
               "Queue a run now, with params over the task's own -> 202 {run_id}",
               body=SchedulerRunCreate)
    async def run_task(call):
        return Reply(await s.scheduler.queue_run(call.caller, call.params["task_id"],
                                                 call.body), 202)

    @api.route("GET", "/api/v1/scheduler/runs", "scheduler.run",
               "Runs, newest first", query={"task_id": "only this task's runs",
                                            "cursor": "the next_cursor of the page before",
                                            "limit": "page size (default 50)"})
    async def list_runs(call):
        return await s.scheduler.list_runs(call.query_int("task_id"), call.query_int("cursor"),
                                           call.query_int("limit", 50))

    @api.route("GET", "/api/v1/scheduler/runs/<int:run_id>", "scheduler.run",
               "A run: state queued/running/done/failed, progress, result, error")
    async def get_run(call):
        return await s.scheduler.get_run(call.params["run_id"])
