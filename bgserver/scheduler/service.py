"""bgscheduler: holds the scheduler lease and, as leader, runs the tasks' runs.

Each tick the leader renews its lease, reads the task rows (so changes made over the API
take effect at once), queues a run for each cron time that came (after downtime every
missed one, oldest first, ``scheduler.catch_up_days`` back at most), and starts the oldest
queued run of each task that has none running: one run per task at a time. Runs queued by
hand through the API are rows like the others; a ``scheduler.run_queued`` event wakes the
leader at once, and without the event the next tick finds them.

A leader that takes over puts the runs its predecessor left ``running`` back in the queue
(its task types are harmless to repeat), or fails them after ``MAX_ATTEMPTS`` starts.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Iterable

from twisted.application.service import Service
from twisted.internet.defer import Deferred, DeferredList, ensureDeferred
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from bgserver.billing.errors import BillingError
from bgserver.events.outbox import emit
from bgserver.scheduler import cron
from bgserver.scheduler.tasks import TaskContext, TaskRun, TaskType, TaskTypes
from bgserver.storage import lease
from bgserver.storage import scheduler as store
from bgshared import wire

log = Logger()
LEASE = "scheduler"
#: Starts of a run before it counts as one that kills its scheduler: then it fails.
MAX_ATTEMPTS = 3
#: Fire times of one task queued in one tick; the next tick queues the next ones.
FIRES_PER_TICK = 100


def recover(conn, holder: str, keep: set[int], now: datetime) -> list[dict[str, Any]]:
    """Runs left ``running`` by a scheduler that lost the lease: queued again, or failed
    once they have been started ``MAX_ATTEMPTS`` times. Returns the runs failed."""
    failed = []
    for run in store.unfinished_runs(conn):
        if run["state"] != store.RUNNING or run["id"] in keep:
            continue
        if run["attempts"] < MAX_ATTEMPTS:
            store.requeue_run(conn, run["id"], run["holder"])
            log.warn("run {run_id} of {type} was left running by {old}: queued again",
                     run_id=run["id"], type=run["type"], old=run["holder"])
            continue
        error = (f"its scheduler ({run['holder']}) stopped while running it, "
                 f"{run['attempts']} times")
        if finish(conn, run, run["holder"], store.FAILED, None, error, None, now):
            failed.append(run)
    return failed


def finish(conn, run: dict[str, Any], holder: str, state: str, result: Any, error: str | None,
           progress: tuple[int, int | None] | None, now: datetime) -> bool:
    values: dict[str, Any] = {"state": state, "finished_at": now, "error": error,
                              "result": None if result is None else wire.dumps(result)}
    if progress is not None:
        values["progress_done"], values["progress_total"] = progress
    if not store.finish_run(conn, run["id"], holder, values):
        return False
    emit(conn, "scheduler.run_finished",
         {"run_id": run["id"], "task_id": run["task_id"], "type": run["type"], "state": state,
          "result": result, "error": error}, occurred_at=now)
    return True


def claim(conn, run_id: int, holder: str, now: datetime) -> dict[str, Any] | None:
    """Take a queued run: the run and its task's module instance, or None if taken."""
    if not store.claim_run(conn, run_id, holder, now):
        return None
    run = store.get_run(conn, run_id)
    task = store.get_task(conn, run["task_id"])
    return {**run, "module_id": task["module_id"]}


class SchedulerService(Service):
    name = "scheduler"

    def __init__(self, context: TaskContext, task_types: Iterable[TaskType], holder: str,
                 tick: float = 5.0, lease_seconds: float = 30.0, catch_up_days: float = 31,
                 bus: Any = None):
        self.context = context
        self.task_types = task_types if isinstance(task_types, TaskTypes) \
            else TaskTypes(task_types)
        self.holder = holder
        self.tick = tick
        self.lease_seconds = lease_seconds
        self.catch_up = timedelta(days=catch_up_days)
        self.bus = bus
        self.leader = False
        #: task id -> its run going on in this process
        self.active: dict[int, Deferred] = {}
        self.active_runs: set[int] = set()
        self._loop: LoopingCall | None = None
        self._waking = False
        self._again = False
        self._stopping = False
        self._unknown_types: set[str] = set()

    @property
    def database(self):
        return self.context.database

    @property
    def clock(self):
        return self.context.clock

    def startService(self) -> None:
        super().startService()
        if self.bus is not None:
            self.bus.subscribe("scheduler.run_queued", lambda event: self.poke())
        self._loop = LoopingCall(lambda: ensureDeferred(self.wake()))
        self._loop.clock = self.clock.reactor
        self._loop.start(self.tick, now=True).addErrback(
            lambda f: log.failure("scheduler loop stopped", f))

    async def stopService(self) -> None:
        super().stopService()
        self._stopping = True
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        await self.idle()
        if self.leader:
            await self.database.run("lease_release", lease.release, LEASE, self.holder)
            self.leader = False

    async def idle(self) -> None:
        """Wait until no run of this process is going on."""
        while self.active:
            await DeferredList(list(self.active.values()), consumeErrors=True)

    def poke(self) -> None:
        """Wake now rather than at the next tick (a run was queued, one finished)."""
        if not self._stopping:
            ensureDeferred(self.wake()).addErrback(
                lambda f: log.failure("scheduler wake failed", f))

    async def wake(self) -> None:
        """Renew the lease; as leader, queue due cron runs and start queued ones. Wakes
        that come while one is going on make it go round once more."""
        if self._stopping:
            return
        if self._waking:
            self._again = True
            return
        self._waking = True
        try:
            self._again = True
            while self._again:
                self._again = False
                await self._wake()
        finally:
            self._waking = False

    async def _wake(self) -> None:
        try:
            held = await self.database.run("lease_acquire", lease.acquire, LEASE, self.holder,
                                           self.clock.now(), self.lease_seconds)
        except Exception as exc:
            log.warn("scheduler cannot reach the database: {error}", error=repr(exc))
            held = False
        if held and not self.leader:
            log.info("scheduler {holder} took the lease: running tasks", holder=self.holder)
            failed = await self.database.run("scheduler_recover", recover, self.holder,
                                             set(self.active_runs), self.clock.now())
            for run in failed:
                log.warn("run {run_id} of {type} failed: its scheduler stopped while running "
                         "it, {attempts} times", run_id=run["id"], type=run["type"],
                         attempts=run["attempts"])
        elif self.leader and not held:
            log.warn("scheduler {holder} lost the lease: standing by", holder=self.holder)
        self.leader = held
        if not held:
            return
        try:
            await self._queue_due()
            await self._start_queued()
        except Exception as exc:
            log.warn("scheduler tick failed: {error}", error=repr(exc))

    async def _queue_due(self) -> None:
        """A queued run for each cron time of each enabled task that has come."""
        now = self.clock.now()
        oldest = now - self.catch_up
        tasks = await self.database.run("scheduler_tasks", store.list_tasks, readonly=True)
        for task in tasks:
            if not task["enabled"] or not task["cron"] or not self._known(task["type"]):
                continue
            after, capped = task["fired_through"], False
            if after < oldest:
                capped = True
                log.warn("task {task_id} ({type}): fire times before {oldest} are not caught "
                         "up (scheduler.catch_up_days)", task_id=task["id"], type=task["type"],
                         oldest=oldest.isoformat())
                after = oldest
            try:
                times = cron.fire_times(task["cron"], after, now, self.clock.zone,
                                        FIRES_PER_TICK)
            except (ValueError, KeyError) as exc:
                log.warn("task {task_id}: bad cron {cron!r}: {error}", task_id=task["id"],
                         cron=task["cron"], error=str(exc))
                continue
            if not times and not capped:
                continue
            runs = [{"task_id": task["id"], "type": task["type"], "params": task["params"],
                     "scheduled_for": at, "queued_at": now} for at in times]
            await self.database.run("scheduler_queue_fired", store.queue_fired, task["id"],
                                    times[-1] if times else after, task["fired_through"], runs)
            if len(times) > 1:
                log.info("task {task_id} ({type}): {count} missed runs queued, from {first}",
                         task_id=task["id"], type=task["type"], count=len(times),
                         first=times[0].isoformat())

    def _known(self, type_name: str) -> bool:
        if type_name in self.task_types:
            return True
        if type_name not in self._unknown_types:
            self._unknown_types.add(type_name)
            log.warn("task type {type} is not in this build: its tasks wait", type=type_name)
        return False

    async def _start_queued(self) -> None:
        runs = await self.database.run("scheduler_unfinished_runs", store.unfinished_runs,
                                       readonly=True)
        busy = set(self.active) | {r["task_id"] for r in runs if r["state"] == store.RUNNING}
        for run in runs:  # oldest first
            if self._stopping:
                return
            if run["state"] == store.QUEUED and run["task_id"] not in busy \
                    and self._known(run["type"]):
                busy.add(run["task_id"])
                self.start(run)

    def start(self, run: dict[str, Any]) -> Deferred:
        d = ensureDeferred(self._run(run))
        self.active[run["task_id"]] = d
        self.active_runs.add(run["id"])
        d.addBoth(self._forget, run)
        return d

    def _forget(self, result: Any, run: dict[str, Any]) -> Any:
        self.active.pop(run["task_id"], None)
        self.active_runs.discard(run["id"])
        if self.leader:
            self.poke()  # the task's next queued run, if any, need not wait for a tick
        return result

    async def _run(self, queued: dict[str, Any]) -> None:
        row = await self.database.run("scheduler_claim_run", claim, queued["id"], self.holder,
                                      self.clock.now())
        if row is None:
            return
        task_type = self.task_types.get(row["type"])
        log.info("task {type} started (run {run_id}, task {task_id})", type=row["type"],
                 run_id=row["id"], task_id=row["task_id"])

        async def store_progress(done: int, total: int | None) -> None:
            await self.database.run("scheduler_progress", store.store_progress, row["id"],
                                    done, total)

        run = TaskRun(row["id"], row["task_id"], row["type"], row["module_id"], {},
                      row["scheduled_for"], store_progress, self.clock)
        result, error = None, None
        try:
            run.params = task_type.check_params(wire.loads(row["params"]))
            result = await task_type.run(self.context, run)
            wire.dumps(result)  # a result that cannot be kept fails the run
            state = store.DONE
        except Exception as exc:
            log.failure("task {type} failed (run {run_id})", type=row["type"], run_id=row["id"])
            state, result, error = store.FAILED, None, describe(exc)
        await self.database.run("scheduler_finish_run", finish, row, self.holder, state, result,
                                error, run.latest, self.clock.now())
        log.info("task {type} {state} (run {run_id}): {outcome}", type=row["type"], state=state,
                 run_id=row["id"], outcome=error or result)


def describe(exc: Exception) -> str:
    if isinstance(exc, BillingError):
        return exc.message + (f" {wire.dumps(exc.details)}" if exc.details else "")
    return f"{type(exc).__name__}: {exc}"
