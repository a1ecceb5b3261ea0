"""Leases: a named row saying which process does a job alone until when.

Only one bgscheduler runs tasks at a time; a second one waits as a hot standby and takes
the lease over when the holder stops renewing it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from bgserver.storage.schema import lease


def acquire(conn: Connection, name: str, holder: str, now: datetime, seconds: float) -> bool:
    """Take or renew the lease; True if ``holder`` holds it until ``now + seconds``."""
    expires_at = now + timedelta(seconds=seconds)
    row = conn.execute(select(lease.c.holder, lease.c.expires_at)
                       .where(lease.c.name == name).with_for_update()).first()
    if row is None:
        try:
            with conn.begin_nested():
                conn.execute(insert(lease).values(name=name, holder=holder, expires_at=expires_at))
        except IntegrityError:
            return False  # another process created it a moment ago
        return True
    if row.holder != holder and row.expires_at > now:
        return False
    conn.execute(update(lease).where(lease.c.name == name)
                 .values(holder=holder, expires_at=expires_at))
    return True


def release(conn: Connection, name: str, holder: str) -> None:
    conn.execute(delete(lease).where(lease.c.name == name, lease.c.holder == holder))

