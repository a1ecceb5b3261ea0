"""bgloader: watches spool directories and hands each new file to its source's parser.

Module types register sources (RADIUS detail files for ``inet``, PBX CDRs for ``voice``);
each source has ``spool/<name>/`` where files arrive, and ``done/`` and ``failed/`` beside
it where they go once loaded. Several bgloader processes split the sources between them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable

from twisted.application.service import Service
from twisted.internet.defer import ensureDeferred
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

log = Logger()


@dataclass(frozen=True)
class Source:
    name: str
    #: ``async load(path, context) -> counts``; a file is finished when it returns.
    load: Callable[[Path, Any], Awaitable[dict[str, int]]]


class LoaderService(Service):
    name = "loader"

    def __init__(self, context: Any, sources: list[Source], spool: Path,
                 poll_interval: float = 5.0):
        self.context = context
        self.sources = sources
        self.spool = Path(spool)
        self.poll_interval = poll_interval
        self._loop: LoopingCall | None = None
        self._busy = False

    def startService(self) -> None:
        super().startService()
        for source in self.sources:
            for part in ("", "done", "failed"):
                (self.spool / source.name / part).mkdir(parents=True, exist_ok=True)
        log.info("loader watching {count} sources under {spool}", count=len(self.sources),
                 spool=str(self.spool))
        self._loop = LoopingCall(self.scan)
        self._loop.clock = self.context.clock.reactor
        self._loop.start(self.poll_interval, now=True)

    def stopService(self):
        super().stopService()
        if self._loop is not None and self._loop.running:
            self._loop.stop()

    def scan(self):
        """Load every waiting file, oldest first; one scan at a time."""
        if self._busy:
            return None
        self._busy = True
        d = ensureDeferred(self._scan())
        d.addBoth(self._idle)
        return d

    def _idle(self, result):
        self._busy = False
        return result

    async def _scan(self) -> int:
        loaded = 0
        for source in self.sources:
            directory = self.spool / source.name
            waiting = sorted((p for p in directory.iterdir()
                              if p.is_file() and not p.name.startswith(".")),
                             key=lambda p: (p.stat().st_mtime, p.name))
            for path in waiting:
                try:
                    counts = await source.load(path, self.context)
                except Exception:
                    log.failure("loading {path} failed; moved to failed/", path=str(path))
                    path.rename(directory / "failed" / path.name)
                    continue
                path.rename(directory / "done" / path.name)
                log.info("loaded {path}: {counts}", path=str(path), counts=counts)
                loaded += 1
        return loaded
