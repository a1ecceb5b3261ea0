"""bgloader: watches the sources' spool directories and loads each new file.

Sources live in the database (``/api/v1/loader/sources``); each has
``<loader.spool>/<name>/`` where files arrive, and ``done/`` and ``failed/`` beside them
where they go once loaded. Several bgloader processes may watch one spool: a file is
claimed in the database by its checksum, so only one loads it (see
:mod:`bgserver.loader.core`); the others skip it, or archive it once it is done.
"""

from __future__ import annotations

import time
from pathlib import Path

from twisted.application.service import Service
from twisted.internet.defer import ensureDeferred
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from bgserver.loader.core import Loader, LostClaim
from bgserver.storage import loader as store

log = Logger()


def archive(path: Path, to: Path) -> None:
    """Move a file into ``done/`` or ``failed/``; a name there already gets a suffix.
    Another loader may have moved it first: then there is nothing to do."""
    to.mkdir(parents=True, exist_ok=True)
    target = to / path.name
    n = 1
    while target.exists():
        target = to / f"{path.name}.{n}"
        n += 1
    try:
        path.rename(target)
    except FileNotFoundError:
        pass


class LoaderService(Service):
    name = "loader"

    def __init__(self, loader: Loader, spool: Path, poll_interval: float = 5.0,
                 settle_seconds: float = 0.0):
        self.loader = loader
        self.spool = Path(spool)
        self.poll_interval = poll_interval
        #: A file changed more recently than this is still being written: left for later.
        self.settle_seconds = settle_seconds
        self._loop: LoopingCall | None = None
        self._busy = False

    def startService(self) -> None:
        super().startService()
        log.info("loader watching the sources under {spool}", spool=str(self.spool))
        self._loop = LoopingCall(self.scan)
        self._loop.clock = self.loader.clock.reactor
        d = self._loop.start(self.poll_interval, now=True)
        d.addErrback(lambda f: log.failure("the loader stopped scanning", f))

    def stopService(self):
        super().stopService()
        if self._loop is not None and self._loop.running:
            self._loop.stop()

    def scan(self):
        """Load every waiting file of every enabled source, oldest first; one scan at a
        time. A failure is logged, never ends the loop."""
        if self._busy:
            return None
        self._busy = True
        d = ensureDeferred(self._scan())
        d.addErrback(lambda f: log.failure("loader scan failed", f))
        d.addBoth(self._idle)
        return d

    def _idle(self, result):
        self._busy = False
        return result

    def waiting(self, directory: Path) -> list[Path]:
        directory.mkdir(parents=True, exist_ok=True)
        settled = time.time() - self.settle_seconds
        files = []
        for p in directory.iterdir():
            try:
                stat = p.stat()
            except FileNotFoundError:
                continue
            if p.is_file() and not p.name.startswith(".") and stat.st_mtime <= settled:
                files.append((stat.st_mtime, p.name, p))
        return [p for _, _, p in sorted(files)]

    async def _scan(self) -> int:
        loaded = 0
        formats = self.loader.formats()
        sources = await self.loader.database.run("loader_sources", store.list_sources, True,
                                                 readonly=True)
        for source in sources:
            if source["format"] not in formats:
                continue
            directory = self.spool / source["name"]
            for path in self.waiting(directory):
                try:
                    row = await self.loader.load(source, path)
                except (FileNotFoundError, LostClaim):
                    continue  # taken by another loader meanwhile
                except Exception:
                    log.failure("loading {path} failed; moved to failed/", path=str(path))
                    archive(path, directory / "failed")
                    continue
                if row is None:
                    continue  # another loader holds it
                archive(path, directory / "done")
                log.info("loaded {path}: {lines} lines, {stored} stored, {duplicates} "
                         "duplicates, {quarantined} quarantined", path=str(path), **{
                             k: row[k] for k in ("lines", "stored", "duplicates",
                                                 "quarantined")})
                loaded += 1
        return loaded
