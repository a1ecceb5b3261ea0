"""The loader: sources of usage files, the files loaded and the quarantine."""

from __future__ import annotations

from typing import Any

from bgserver.api.routing import Api, Reply
from bgshared.api.models import LoaderSourceCreate, LoaderSourcePatch

SOURCES = "/api/v1/loader/sources"


def register(api: Api, s: Any) -> None:
    @api.route("GET", SOURCES, "loader.admin", "Loader sources, with their spool directories")
    async def list_sources(call):
        return {"items": await s.loader.sources(), "next_cursor": None}

    @api.route("POST", SOURCES, "loader.admin",
               "Add a source: a format of a module instance; its files arrive in "
               "<loader.spool>/<name>/", body=LoaderSourceCreate)
    async def create_source(call):
        return Reply(await s.loader.create_source(call.caller, call.body), 201)

    @api.route("PATCH", f"{SOURCES}/<int:source_id>", "loader.admin",
               "Enable or disable a source, change its time zone", body=LoaderSourcePatch)
    async def update_source(call):
        return await s.loader.update_source(call.caller, call.params["source_id"], call.body)

    @api.route("GET", "/api/v1/loader/files", "loader.admin",
               "Loaded files, newest first: checksum, state, counts of records stored, "
               "duplicates and quarantined, timings",
               query={"source_id": "", "cursor": "next_cursor", "limit": ""})
    async def list_files(call):
        return await s.loader.files(call.query_int("source_id"), call.query_int("cursor"),
                                    call.query_int("limit", 100))

    @api.route("GET", "/api/v1/loader/quarantine", "loader.admin",
               "Quarantined records with file, line and reason (resolved=true: those a "
               "reprocess stored)",
               query={"source_id": "", "resolved": "true/false", "cursor": "", "limit": ""})
    async def list_quarantine(call):
        return await s.loader.quarantine(call.query_int("source_id"),
                                         call.query("resolved") == "true",
                                         call.query_int("cursor"), call.query_int("limit", 100))
