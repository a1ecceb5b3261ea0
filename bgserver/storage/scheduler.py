"""Store of the scheduler: task rows and their runs (queued, running, done, failed)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from bgserver.storage.schema import scheduler_run, scheduler_task

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


# -- tasks -------------------------------------------------------------------------------

def insert_task(conn: Connection, values: dict[str, Any]) -> int:
    return conn.execute(insert(scheduler_task).values(values)).inserted_primary_key[0]


def get_task(conn: Connection, task_id: int, lock: bool = False) -> dict[str, Any] | None:
    query = select(scheduler_task).where(scheduler_task.c.id == task_id)
    row = conn.execute(query.with_for_update() if lock else query).first()
    return None if row is None else dict(row._mapping)


def list_tasks(conn: Connection) -> list[dict[str, Any]]:
    """Every task: a provider has tens of them, not thousands."""
    return [dict(r._mapping) for r in conn.execute(
        select(scheduler_task).order_by(scheduler_task.c.id))]


def task_types_present(conn: Connection) -> set[tuple[str, int | None]]:
    return {(r.type, r.module_id) for r in conn.execute(
        select(scheduler_task.c.type, scheduler_task.c.module_id).distinct())}


def update_task(conn: Connection, task_id: int, values: dict[str, Any]) -> None:
    conn.execute(update(scheduler_task).where(scheduler_task.c.id == task_id).values(values))


# -- runs --------------------------------------------------------------------------------

def insert_run(conn: Connection, values: dict[str, Any]) -> int:
    return conn.execute(insert(scheduler_run).values(
        state=QUEUED, attempts=0, **values)).inserted_primary_key[0]


def queue_fired(conn: Connection, task_id: int, fired_through: datetime, expected: datetime,
                runs: list[dict[str, Any]]) -> bool:
    """Queue the runs of a task's fire times and move its ``fired_through`` on, together:
    only if no one moved it since ``expected`` was read, so a fire time is queued once."""
    moved = conn.execute(update(scheduler_task).where(
        scheduler_task.c.id == task_id, scheduler_task.c.fired_through == expected)
        .values(fired_through=fired_through)).rowcount
    if moved != 1:
        return False
    if runs:
        conn.execute(insert(scheduler_run), [{"state": QUEUED, "attempts": 0, **run}
                                             for run in runs])
    return True


def get_run(conn: Connection, run_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(scheduler_run).where(scheduler_run.c.id == run_id)).first()
    return None if row is None else dict(row._mapping)


def list_runs(conn: Connection, task_id: int | None, before_id: int | None,
              limit: int) -> list[dict[str, Any]]:
    """Newest first."""
    query = select(scheduler_run).order_by(scheduler_run.c.id.desc()).limit(limit)
    if task_id is not None:
        query = query.where(scheduler_run.c.task_id == task_id)
    if before_id is not None:
        query = query.where(scheduler_run.c.id < before_id)
    return [dict(r._mapping) for r in conn.execute(query)]


def unfinished_runs(conn: Connection) -> list[dict[str, Any]]:
    """Queued and running runs, oldest first: what a scheduler has still to do."""
    return [dict(r._mapping) for r in conn.execute(
        select(scheduler_run).where(scheduler_run.c.state.in_((QUEUED, RUNNING)))
        .order_by(scheduler_run.c.id))]


def claim_run(conn: Connection, run_id: int, holder: str, now: datetime) -> bool:
    """Take a queued run; False if it is no longer queued."""
    return conn.execute(update(scheduler_run).where(
        scheduler_run.c.id == run_id, scheduler_run.c.state == QUEUED).values(
        state=RUNNING, holder=holder, started_at=now, finished_at=None,
        attempts=scheduler_run.c.attempts + 1)).rowcount == 1


def requeue_run(conn: Connection, run_id: int, holder: str) -> bool:
    """A run whose scheduler died goes back to the queue."""
    return conn.execute(update(scheduler_run).where(
        scheduler_run.c.id == run_id, scheduler_run.c.state == RUNNING,
        scheduler_run.c.holder == holder).values(state=QUEUED)).rowcount == 1


def store_progress(conn: Connection, run_id: int, done: int, total: int | None) -> None:
    conn.execute(update(scheduler_run).where(scheduler_run.c.id == run_id).values(
        progress_done=done, progress_total=total))


def finish_run(conn: Connection, run_id: int, holder: str, values: dict[str, Any]) -> bool:
    """Record the end of a run that ``holder`` still has (a run taken over by another
    scheduler meanwhile is that one's to finish)."""
    return conn.execute(update(scheduler_run).where(
        scheduler_run.c.id == run_id, scheduler_run.c.state == RUNNING,
        scheduler_run.c.holder == holder).values(values)).rowcount == 1
