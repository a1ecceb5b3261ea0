"""Loading a file exactly once: claim it by its checksum, store it batch by batch (each
batch with the file's position in one transaction), finish it; retry the quarantine;
re-rate a period.

A loader killed in the middle of a file leaves the file claimed up to the last batch it
committed; once the claim lapses, any loader goes on from that position. Records have
natural keys besides (sessions, calls), so a file loaded again, or overlapping another,
adds nothing twice either.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from twisted.internet import threads
from twisted.logger import Logger

from bgserver.billing import audit
from bgserver.events.outbox import emit
from bgserver.loader.formats import (DUPLICATE, LOADER, SKIPPED, STORED, Batch, Malformed, RawRecord,
                                     SourceInfo)
from bgserver.storage import loader as store
from bgserver.storage import money as money_store
from bgserver.storage import modules as module_store

log = Logger()


class LostClaim(Exception):
    """Another loader took the file over (this one was too slow to renew its claim)."""


async def _settled(d) -> None:
    """Wait for a read in flight to end, whatever it ends in (its result is not wanted
    any more, but its thread must be done with the file before the file is closed)."""
    try:
        await d
    except Exception:  # noqa: BLE001 - the error that matters is the caller's own
        pass


def digest(path: Path) -> tuple[str, int]:
    sha = hashlib.sha256()
    size = 0
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            sha.update(chunk)
            size += len(chunk)
    return sha.hexdigest(), size


class Reader:
    """A file's records in batches, from a position on, each record read by the format
    (or the reason it cannot be); done in a worker thread, outside any transaction."""

    def __init__(self, path: Path, fmt: Any, source: SourceInfo, offset: int, line: int,
                 batch_lines: int):
        self.stream = open(path, "rb")
        self.fmt = fmt
        self.source = source
        self.records = fmt.records(self.stream, offset, line)
        self.batch_lines = batch_lines

    def next_batch(self) -> list[tuple[RawRecord, Any]]:
        """Up to ``batch_lines`` lines' records, each with what it reads as, or the
        :class:`Malformed` saying why not."""
        batch: list[tuple[RawRecord, Any]] = []
        lines = 0
        parse, source = self.fmt.parse, self.source
        for record in self.records:
            try:
                batch.append((record, parse(record, source)))
            except Malformed as exc:  # kept without its frames, which hold the batch
                batch.append((record, exc.with_traceback(None)))
            lines += record.lines
            if lines >= self.batch_lines:
                break
        return batch

    def close(self) -> None:
        self.stream.close()


@dataclass
class Loader:
    database: Any
    clock: Any
    registry: Any
    holder: str
    batch_lines: int = 2000
    lease_seconds: float = 60.0

    def formats(self) -> dict[str, Any]:
        return self.registry.loader_formats()

    def source_info(self, source: dict[str, Any]) -> SourceInfo:
        return SourceInfo(source["id"], source["name"], source["format"], source["module_id"],
                          ZoneInfo(source["time_zone"]))

    def _batch(self, conn, module_id: int) -> Batch:
        return Batch(conn, module_id, self.clock.zone, self.clock.today(), self.clock.now(),
                     money_store.closed_through(conn))

    async def load(self, source: dict[str, Any], path: Path,
                   progress: Callable[[int, int, dict], None] | None = None
                   ) -> dict[str, Any] | None:
        """Load one file of ``source``. Returns its file row once done (``state`` done; a
        file loaded before, under any name, comes back as it was), or None while another
        loader holds it."""
        fmt = self.formats()[source["format"]]
        info = self.source_info(source)
        checksum, size = await threads.deferToThread(digest, path)
        now = self.clock.now()
        try:
            claimed = await self.database.run(
                "claim_loader_file", store.claim_file, source["id"], path.name, checksum, size,
                self.holder, now, now + timedelta(seconds=self.lease_seconds))
        except IntegrityError:
            return None  # another loader made the row first
        if claimed is None or claimed["state"] == "done":
            return claimed
        reader = Reader(path, fmt, info, claimed["position"], claimed["lines"],
                        self.batch_lines)
        counts = {k: claimed[k] for k in (STORED, "duplicates", "quarantined")}
        ahead = threads.deferToThread(reader.next_batch)
        try:
            while True:
                records, ahead = await ahead, None
                if not records:
                    break
                # the next batch is read while this one is stored: at most two in memory
                ahead = threads.deferToThread(reader.next_batch)
                added = await self.database.run("load_batch", self._store_batch, fmt, info,
                                                claimed["id"], records)
                for k, v in added.items():
                    counts[k] += v
                if progress is not None:
                    progress(records[-1][0].end, size, counts)
        finally:
            if ahead is not None:
                await _settled(ahead)
            reader.close()
        return await self.database.run("finish_loader_file", self._finish, claimed["id"],
                                       source["name"])

    def _store_batch(self, conn, fmt, source: SourceInfo, file_id: int,
                     records: list[tuple[RawRecord, Any]]) -> dict[str, int]:
        now = self.clock.now()
        if not store.hold(conn, file_id, self.holder,
                          now + timedelta(seconds=self.lease_seconds)):
            raise LostClaim(f"file {file_id} is held by another loader")
        parsed, reasons = [], {}
        for record, read in records:
            if isinstance(read, Malformed):
                reasons[record.line] = f"malformed: {read}"
            else:
                parsed.append((record, read))
        outcomes = fmt.store(self._batch(conn, source.module_id), [p for _, p in parsed])
        counts = {STORED: 0, "duplicates": 0, "quarantined": len(reasons)}
        for (record, _), outcome in zip(parsed, outcomes):
            if outcome == STORED:
                counts[STORED] += 1
            elif outcome == DUPLICATE:
                counts["duplicates"] += 1
            elif outcome != SKIPPED:
                reasons[record.line] = outcome
                counts["quarantined"] += 1
        by_line = {r.line: r for r, _ in records} if reasons else {}
        store.quarantine_rows(conn, [{
            "source_id": source.id, "file_id": file_id, "line": line,
            "record": by_line[line].text, "reason": reason[:255], "created_at": now}
            for line, reason in sorted(reasons.items())])
        last = records[-1][0]
        store.advance(conn, file_id, last.end, last.line + last.lines - 1, counts)
        return counts

    def _finish(self, conn, file_id: int, source_name: str) -> dict[str, Any]:
        now = self.clock.now()
        if not store.hold(conn, file_id, self.holder, now):
            raise LostClaim(f"file {file_id} is held by another loader")
        store.finish(conn, file_id, now)
        row = store.get_file(conn, file_id)
        emit(conn, "loader.file_loaded", {
            "file_id": file_id, "source": source_name, "name": row["name"],
            "checksum": row["checksum"], **{k: row[k] for k in (
                "lines", STORED, "duplicates", "quarantined")}}, occurred_at=now)
        return row

    # -- the quarantine -------------------------------------------------------------

    async def reprocess(self, source_name: str | None = None) -> dict[str, int]:
        """Try the quarantined records again, in the order they came (after an operator
        added the missing login, fixed a tariff...)."""
        sources = {s["id"]: s for s in await self.database.run(
            "loader_sources", store.list_sources)}
        wanted = None
        if source_name is not None:
            wanted = next((i for i, s in sources.items() if s["name"] == source_name), None)
            if wanted is None:
                raise LookupError(f"no loader source {source_name}")
        totals = {STORED: 0, "duplicates": 0, "quarantined": 0}
        after = 0
        while True:
            rows = await self.database.run("quarantine_waiting", store.waiting, after,
                                           self.batch_lines, wanted, readonly=True)
            if not rows:
                return totals
            after = rows[-1]["id"]
            for k, v in (await self.database.run("reprocess_batch", self._reprocess,
                                                 rows, sources)).items():
                totals[k] += v

    def _reprocess(self, conn, rows: list[dict[str, Any]],
                   sources: dict[int, dict[str, Any]]) -> dict[str, int]:
        now = self.clock.now()
        counts = {STORED: 0, "duplicates": 0, "quarantined": 0}
        formats = self.formats()
        by_source: dict[int, list[dict[str, Any]]] = {}
        for row in rows:
            by_source.setdefault(row["source_id"], []).append(row)
        for source_id, waiting in by_source.items():
            info = self.source_info(sources[source_id])
            fmt = formats[info.format]
            parsed = []
            for row in waiting:
                try:
                    parsed.append((row, fmt.parse(RawRecord(row["line"], row["record"]), info)))
                except Malformed as exc:
                    store.requarantine(conn, row["id"], f"malformed: {exc}")
                    counts["quarantined"] += 1
            outcomes = fmt.store(self._batch(conn, info.module_id), [p for _, p in parsed])
            for (row, _), outcome in zip(parsed, outcomes):
                if outcome in (STORED, DUPLICATE, SKIPPED):
                    store.resolve(conn, row["id"], row["file_id"], outcome, now)
                    counts[STORED if outcome == STORED else "duplicates"] += 1
                else:
                    store.requarantine(conn, row["id"], outcome)
                    counts["quarantined"] += 1
        return counts

    # -- re-rating ------------------------------------------------------------------

    async def rerate(self, since: date, until: date,
                     contract_id: int | None = None) -> dict[str, int]:
        """Price the records of these days again by the tariffs in force now (after a
        tariff was corrected): each day's usage is replaced by what they cost now, and
        only the difference is booked."""
        by_type = {fmt.module_type: fmt for fmt in self.formats().values()}
        instances = await self.database.run("module_instances", module_store.list_instances,
                                            readonly=True)
        result = {}
        for instance in instances:
            fmt = by_type.get(instance["type"])
            if fmt is None:
                continue
            result[instance["id"]] = await self.database.run(
                "rerate", self._rerate, fmt, instance["id"], since, until, contract_id)
        return result

    def _rerate(self, conn, fmt, module_id: int, since: date, until: date,
                contract_id: int | None) -> int:
        changed = fmt.rerate(self._batch(conn, module_id), since, until, contract_id)
        audit.record(conn, LOADER, "usage.rerate", "module", module_id,
                     now=self.clock.now(), after={"from": since, "to": until,
                                                  "contract_id": contract_id,
                                                  "records": changed})
        return changed
