"""bgscheduler: holds the scheduler lease and starts tasks when their cron time comes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from croniter import croniter
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection
from twisted.application.service import Service
from twisted.internet.defer import Deferred, ensureDeferred
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from bgserver.events.outbox import emit
from bgserver.scheduler.tasks import Task, TaskContext, TaskRegistry
from bgserver.storage import lease
from bgserver.storage.schema import scheduler_run
from bgshared import wire

log = Logger()
LEASE = "scheduler"


def last_starts(conn: Connection) -> dict[str, datetime]:
    rows = conn.execute(select(scheduler_run.c.task, func.max(scheduler_run.c.started_at))
                        .group_by(scheduler_run.c.task)).all()
    return {task: started for task, started in rows}


def start_run(conn: Connection, task: str, holder: str, now: datetime) -> int:
    return conn.execute(insert(scheduler_run).values(
        task=task, status="running", started_at=now, holder=holder)).inserted_primary_key[0]


def finish_run(conn: Connection, run_id: int, task: str, status: str, result: dict[str, Any],
               now: datetime) -> None:
    conn.execute(update(scheduler_run).where(scheduler_run.c.id == run_id).values(
        status=status, finished_at=now, result=wire.dumps(result)))
    emit(conn, "scheduler.run_finished",
         {"run_id": run_id, "task": task, "status": status, "result": result},
         occurred_at=now)


class SchedulerService(Service):
    name = "scheduler"

    def __init__(self, context: TaskContext, registry: TaskRegistry, holder: str,
                 tick: float = 5.0, lease_seconds: float = 30.0):
        self.context = context
        self.registry = registry
        self.holder = holder
        self.tick = tick
        self.lease_seconds = lease_seconds
        self.leader = False
        self.next_due: dict[str, datetime] = {}
        self.running_tasks: dict[str, Deferred] = {}
        self._loop: LoopingCall | None = None

    @property
    def database(self):
        return self.context.database

    @property
    def clock(self):
        return self.context.clock

    def startService(self) -> None:
        super().startService()
        self._loop = LoopingCall(lambda: ensureDeferred(self.wake()))
        self._loop.clock = self.clock.reactor
        self._loop.start(self.tick, now=True).addErrback(
            lambda f: log.failure("scheduler loop stopped", f))

    async def stopService(self) -> None:
        super().stopService()
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        for running in list(self.running_tasks.values()):
            await running
        if self.leader:
            await self.database.run("lease_release", lease.release, LEASE, self.holder)
            self.leader = False

    async def wake(self) -> None:
        """Renew the lease; as leader, start every task whose time has come."""
        try:
            held = await self.database.run("lease_acquire", lease.acquire, LEASE, self.holder,
                                           self.clock.now(), self.lease_seconds)
        except Exception as exc:
            log.warn("scheduler cannot reach the database: {error}", error=repr(exc))
            held = False
        if held and not self.leader:
            log.info("scheduler {holder} took the lease: running tasks", holder=self.holder)
            self.next_due = await self._plan()
        elif self.leader and not held:
            log.warn("scheduler {holder} lost the lease: standing by", holder=self.holder)
        self.leader = held
        if not held:
            return
        now = self.clock.now()
        for task in self.registry:
            if task.name not in self.running_tasks and self.next_due.get(task.name, now) <= now:
                self.start(task)

    async def _plan(self) -> dict[str, datetime]:
        last = await self.database.run("scheduler_last_starts", last_starts, readonly=True)
        now = self.clock.now()
        return {task.name: self._next(task, last.get(task.name, now)) for task in self.registry}

    def _next(self, task: Task, after: datetime) -> datetime:
        local = after.astimezone(self.clock.zone)
        return croniter(task.cron, local).get_next(datetime).astimezone(after.tzinfo)

    def start(self, task: Task) -> Deferred:
        """Run ``task`` now (also what a manual run from the API does)."""
        self.next_due[task.name] = self._next(task, self.clock.now())
        d = ensureDeferred(self._run(task))
        self.running_tasks[task.name] = d
        d.addBoth(self._forget, task.name)
        return d

    def _forget(self, result: Any, name: str) -> Any:
        self.running_tasks.pop(name, None)
        return result

    async def _run(self, task: Task) -> int:
        run_id = await self.database.run("scheduler_start_run", start_run, task.name,
                                         self.holder, self.clock.now())
        log.info("task {task} started (run {run_id})", task=task.name, run_id=run_id)
        try:
            result = await task.run(self.context)
            status = "done"
        except Exception as exc:
            log.failure("task {task} failed (run {run_id})", task=task.name, run_id=run_id)
            result, status = {"error": repr(exc)}, "failed"
        await self.database.run("scheduler_finish_run", finish_run, run_id, task.name, status,
                                result, self.clock.now())
        log.info("task {task} {status} (run {run_id}): {result}", task=task.name, status=status,
                 run_id=run_id, result=result)
        return run_id
