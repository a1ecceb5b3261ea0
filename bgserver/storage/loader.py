"""Store of the loader: sources, files (with their claims and counts), quarantine."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from bgserver.storage.schema import loader_file, loader_source, quarantine


def list_sources(conn: Connection, enabled_only: bool = False) -> list[dict[str, Any]]:
    query = select(loader_source).order_by(loader_source.c.id)
    if enabled_only:
        query = query.where(loader_source.c.enabled.is_(True))
    return [dict(r._mapping) for r in conn.execute(query)]


def source_by_name(conn: Connection, name: str) -> dict[str, Any] | None:
    row = conn.execute(select(loader_source).where(loader_source.c.name == name)).first()
    return dict(row._mapping) if row else None


def get_source(conn: Connection, source_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(loader_source).where(loader_source.c.id == source_id)).first()
    return dict(row._mapping) if row else None


def insert_source(conn: Connection, values: dict[str, Any]) -> int:
    return conn.execute(insert(loader_source).values(**values)).inserted_primary_key[0]


def update_source(conn: Connection, source_id: int, values: dict[str, Any]) -> None:
    conn.execute(update(loader_source).where(loader_source.c.id == source_id).values(**values))


def claim_file(conn: Connection, source_id: int, name: str, checksum: str, size: int,
               holder: str, now: datetime, until: datetime) -> dict[str, Any] | None:
    """The file's row, claimed by ``holder``; a ``done`` row as it is (loaded already, maybe
    under another name); None while another loader holds it. Two loaders inserting the
    same new file: the unique key lets one in, the other's unit fails."""
    query = select(loader_file).where(loader_file.c.source_id == source_id,
                                      loader_file.c.checksum == checksum)
    if conn.dialect.name == "mysql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        file_id = conn.execute(insert(loader_file).values(
            source_id=source_id, name=name[:255], checksum=checksum, size=size, state="loading",
            claimed_by=holder, claimed_until=until, started_at=now)).inserted_primary_key[0]
        return get_file(conn, file_id)
    if row.state == "done":
        return dict(row._mapping)
    if row.claimed_by != holder and row.claimed_until is not None and row.claimed_until > now:
        return None
    conn.execute(update(loader_file).where(loader_file.c.id == row.id).values(
        claimed_by=holder, claimed_until=until))
    return get_file(conn, row.id)


def hold(conn: Connection, file_id: int, holder: str, until: datetime) -> bool:
    """Renew the claim, and lock the row for this unit: False if the file is not ours."""
    return conn.execute(update(loader_file).where(
        loader_file.c.id == file_id, loader_file.c.claimed_by == holder,
        loader_file.c.state == "loading").values(claimed_until=until)).rowcount == 1


def advance(conn: Connection, file_id: int, position: int, lines: int,
            counts: dict[str, int]) -> None:
    conn.execute(update(loader_file).where(loader_file.c.id == file_id).values(
        position=position, lines=lines,
        **{k: loader_file.c[k] + v for k, v in counts.items() if v}))


def finish(conn: Connection, file_id: int, now: datetime) -> None:
    conn.execute(update(loader_file).where(loader_file.c.id == file_id).values(
        state="done", claimed_by=None, claimed_until=None, finished_at=now))


def get_file(conn: Connection, file_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(loader_file).where(loader_file.c.id == file_id)).first()
    return dict(row._mapping) if row else None


def list_files(conn: Connection, source_id: int | None, before_id: int | None,
               limit: int) -> list[dict[str, Any]]:
    query = select(loader_file, loader_source.c.name.label("source")).join(
        loader_source, loader_source.c.id == loader_file.c.source_id)
    if source_id is not None:
        query = query.where(loader_file.c.source_id == source_id)
    if before_id is not None:
        query = query.where(loader_file.c.id < before_id)
    return [dict(r._mapping) for r in conn.execute(
        query.order_by(loader_file.c.id.desc()).limit(limit))]


def quarantine_rows(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(insert(quarantine), rows)


def waiting(conn: Connection, after_id: int, limit: int,
            source_id: int | None = None) -> list[dict[str, Any]]:
    """Quarantined records not yet stored, in the order they came."""
    query = select(quarantine).where(quarantine.c.resolved_at.is_(None),
                                     quarantine.c.id > after_id)
    if source_id is not None:
        query = query.where(quarantine.c.source_id == source_id)
    return [dict(r._mapping) for r in conn.execute(query.order_by(quarantine.c.id).limit(limit))]


def resolve(conn: Connection, quarantine_id: int, file_id: int, outcome: str,
            now: datetime) -> None:
    conn.execute(update(quarantine).where(quarantine.c.id == quarantine_id)
                 .values(resolved_at=now))
    conn.execute(update(loader_file).where(loader_file.c.id == file_id).values(
        quarantined=loader_file.c.quarantined - 1,
        **{outcome if outcome == "stored" else "duplicates":
           loader_file.c[outcome if outcome == "stored" else "duplicates"] + 1}))


def requarantine(conn: Connection, quarantine_id: int, reason: str) -> None:
    conn.execute(update(quarantine).where(quarantine.c.id == quarantine_id)
                 .values(reason=reason[:255]))


def list_quarantine(conn: Connection, source_id: int | None, resolved: bool,
                    after_id: int | None, limit: int) -> list[dict[str, Any]]:
    query = select(quarantine)
    query = query.where(quarantine.c.resolved_at.is_not(None) if resolved
                        else quarantine.c.resolved_at.is_(None))
    if source_id is not None:
        query = query.where(quarantine.c.source_id == source_id)
    if after_id is not None:
        query = query.where(quarantine.c.id > after_id)
    return [dict(r._mapping) for r in conn.execute(query.order_by(quarantine.c.id).limit(limit))]
