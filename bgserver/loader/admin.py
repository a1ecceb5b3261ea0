"""Managing loader sources and reading files and the quarantine (the API's side)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bgserver.billing import audit
from bgserver.billing.access import Caller
from bgserver.billing.errors import Conflict, Invalid, NotFound
from bgserver.billing.paging import page_size
from bgserver.storage import loader as store
from bgserver.storage import modules as module_store
from bgshared.api.models import LoaderSourceCreate, LoaderSourcePatch


def _field(name: str, message: str) -> Invalid:
    return Invalid(message, [{"field": name, "message": message}])


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise _field("time_zone", f"unknown time zone {name!r}") from None
    return name


class LoaderAdmin:
    def __init__(self, database: Any, clock: Any, registry: Any, spool: str):
        self.database = database
        self.clock = clock
        self.registry = registry
        self.spool = Path(spool)

    def _view(self, source: dict[str, Any]) -> dict[str, Any]:
        return {**source, "spool": str(self.spool / source["name"])}

    async def sources(self) -> list[dict[str, Any]]:
        return [self._view(s) for s in await self.database.run(
            "loader_sources", store.list_sources, readonly=True)]

    async def create_source(self, caller: Caller, body: LoaderSourceCreate) -> dict[str, Any]:
        formats = self.registry.loader_formats()
        fmt = formats.get(body.format)
        if fmt is None:
            raise _field("format", f"one of {', '.join(sorted(formats))}")
        zone = _zone(body.time_zone or self.clock.zone.key)
        now = self.clock.now()

        def create(conn):
            instance = module_store.get_instance(conn, body.module_id)
            if instance is None or instance["type"] != fmt.module_type:
                raise _field("module_id", f"no such module instance of type {fmt.module_type}")
            if store.source_by_name(conn, body.name) is not None:
                raise Conflict(f"a source named {body.name} exists", {"name": body.name})
            source_id = store.insert_source(conn, {
                "name": body.name, "format": body.format, "module_id": body.module_id,
                "time_zone": zone, "enabled": body.enabled, "created_at": now,
                "updated_at": now})
            view = store.get_source(conn, source_id)
            audit.record(conn, caller, "loader_source.create", "loader_source", source_id,
                         now=now, after=view)
            return view

        return self._view(await self.database.run("create_loader_source", create))

    async def update_source(self, caller: Caller, source_id: int,
                            body: LoaderSourcePatch) -> dict[str, Any]:
        values = body.model_dump(exclude_unset=True)
        if values.get("time_zone") is not None:
            _zone(values["time_zone"])
        values = {k: v for k, v in values.items() if v is not None}
        now = self.clock.now()

        def change(conn):
            before = store.get_source(conn, source_id)
            if before is None:
                raise NotFound("no such loader source")
            store.update_source(conn, source_id, {**values, "updated_at": now})
            after = store.get_source(conn, source_id)
            audit.record(conn, caller, "loader_source.update", "loader_source", source_id,
                         now=now, before=before, after=after)
            return after

        return self._view(await self.database.run("update_loader_source", change))

    async def files(self, source_id: int | None, cursor: int | None,
                    limit: int) -> dict[str, Any]:
        size = page_size(limit)
        rows = await self.database.run("loader_files", store.list_files, source_id, cursor,
                                       size + 1, readonly=True)
        items = [{**r, "seconds": (r["finished_at"] - r["started_at"]).total_seconds()
                  if r["finished_at"] else None} for r in rows[:size]]
        return {"items": items,
                "next_cursor": str(items[-1]["id"]) if len(rows) > size else None}

    async def quarantine(self, source_id: int | None, resolved: bool, cursor: int | None,
                         limit: int) -> dict[str, Any]:
        size = page_size(limit)
        rows = await self.database.run("quarantine", store.list_quarantine, source_id,
                                       resolved, cursor, size + 1, readonly=True)
        return {"items": rows[:size],
                "next_cursor": str(rows[size - 1]["id"]) if len(rows) > size else None}
