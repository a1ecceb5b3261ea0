"""Contract statuses: active, blocked (by balance or by an operator), suspended (asked by the
subscriber: no periodic fees), closed. Each change is a dated period with its author; a
change dated in the future waits and is applied on its day."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection

from bgserver.billing import audit
from bgserver.billing.access import Caller, system_caller
from bgserver.billing.errors import Conflict, Invalid
from bgserver.events.outbox import emit
from bgserver.storage import statuses as store
from bgserver.storage.database import savepoint

STATUSES = ("active", "blocked", "suspended", "closed")
SCHEDULER = system_caller("scheduler")


def open_first(conn: Connection, caller: Caller, contract_id: int, day: date,
               now: datetime) -> None:
    """A new contract starts active on its first day."""
    store.insert_period(conn, contract_id, "active", None, day, "", True, caller, now)


def change(conn: Connection, caller: Caller, contract_id: int, status: str,
           reason: str | None, day: date, comment: str, today: date,
           now: datetime) -> dict[str, Any]:
    """Change the status from ``day`` on: at once when ``day`` has come, else scheduled."""
    if status not in STATUSES:
        raise Invalid(f"unknown status {status!r}", {"status": status})
    if (status == "blocked") != (reason is not None):
        raise Invalid("a block needs its reason (balance or operator), other statuses none")
    if day > today:
        period_id = store.insert_period(conn, contract_id, status, reason, day, comment, False,
                                        caller, now)
        audit.record(conn, caller, "contract.status_schedule", "contract_status", period_id,
                     now=now, after={"status": status, "reason": reason, "from": day,
                                     "comment": comment}, contract_id=contract_id)
        return {"id": period_id, "status": status, "reason": reason, "from": day,
                "applied": False}
    period_id = store.insert_period(conn, contract_id, status, reason, day, comment, True,
                                    caller, now)
    return _apply(conn, caller, contract_id, period_id, status, reason, day, comment, now)


def _apply(conn: Connection, caller: Caller, contract_id: int, period_id: int, status: str,
           reason: str | None, day: date, comment: str, now: datetime,
           strict: bool = True) -> dict[str, Any]:
    previous = store.current_before(conn, contract_id, period_id)
    same = previous is not None and (previous.status, previous.reason) == (status, reason)
    if previous is not None:
        if day < previous.date_from:
            raise Conflict("the status in force began later than this change",
                           {"in_force_from": previous.date_from})
        if same and strict:
            raise Conflict(f"the contract is {status} already")
        store.close_period(conn, previous.id, day - timedelta(days=1))
    store.set_contract_status(conn, contract_id, status, now)
    after = {"status": status, "reason": reason, "from": day, "comment": comment}
    if not same:
        before = {"status": previous.status, "reason": previous.reason} if previous else None
        audit.record(conn, caller, "contract.status", "contract_status", period_id, now=now,
                     before=before, after=after, contract_id=contract_id)
        emit(conn, "contract.status_changed",
             {"from": before["status"] if before else None, "to": status, "reason": reason,
              "date": day}, occurred_at=now, contract_id=contract_id)
    return {"id": period_id, "status": status, "reason": reason, "from": day, "applied": True}


def apply_due(conn: Connection, today: date, now: datetime) -> int:
    """Apply the scheduled changes whose day has come (the scheduler's daily task). One
    overtaken by a later change made meanwhile is dropped, with an audit row saying so."""
    applied = 0
    for row in store.due(conn, today):
        try:
            with savepoint(conn):
                store.mark_applied(conn, row.id)
                _apply(conn, SCHEDULER, row.contract_id, row.id, row.status, row.reason,
                       row.date_from, row.comment, now, strict=False)
            applied += 1
        except Conflict as exc:
            store.delete_period(conn, row.id)
            audit.record(conn, SCHEDULER, "contract.status_cancel", "contract_status", row.id,
                         now=now, before={"status": row.status, "from": row.date_from},
                         after={"why": exc.message}, contract_id=row.contract_id)
    return applied
