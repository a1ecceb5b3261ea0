"""``makeService`` for each twistd plugin: the shared core plus each process's own parts.

Every process has the same core: the Database (thread pool), the event bus (in-process or
STOMP), the outbox relay, and the peer watch that logs the other processes coming up.
"""

from __future__ import annotations

import gc
import os
from functools import cache
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twisted.application import strports
from twisted.application.service import MultiService, Service
from twisted.logger import Logger

from bgserver.api.accesslog import AccessLog
from bgserver.api.app import ApiServices, build_api, task_types
from bgserver.api.site import BillingSite, Root
from bgserver.clock import BillingClock
from bgserver.config import ConfigError, Settings, load_settings
from bgserver.events.bus import EventBus
from bgserver.events.local import LocalBus
from bgserver.events.outbox import OutboxRelay, emit
from bgserver.events.stomp import StompBus
from bgserver.loader.core import Loader
from bgserver.loader.service import LoaderService
from bgserver.modules import ModuleRegistry
from bgserver.logs import ReopenOnHangup
from bgserver.scheduler.service import SchedulerService
from bgserver.scheduler.tasks import TaskContext
from bgserver.storage import migrate
from bgserver.storage.database import Database

log = Logger()


@cache
def module_registry() -> ModuleRegistry:
    """The module types of this build: the one place that lists them. Importing them also
    puts their tables into the schema's metadata."""
    from bgserver.modules import inet, npay, rscm, voice  # noqa: PLC0415
    return ModuleRegistry((npay.MODULE, rscm.MODULE, inet.MODULE, voice.MODULE))


class StartupError(Exception):
    """A process cannot start; the message says why and what to do."""


@dataclass
class Core:
    settings: Settings
    reactor: Any
    clock: BillingClock
    database: Database
    bus: EventBus
    process: str
    holder: str
    #: Reopens the log files on SIGHUP; a part with a log file of its own adds it.
    logs: ReopenOnHangup | None = None

    @property
    def task_context(self) -> TaskContext:
        return TaskContext(self.database, self.clock, self.settings)


def make_bus(settings: Settings, reactor: Any, process: str) -> EventBus:
    events = settings.events
    if events.broker == "local":
        return LocalBus(reactor)
    host, port = events.stomp_address
    return StompBus(reactor, host, port, login=events.login, passcode=events.passcode,
                    heartbeat_ms=events.heartbeat_ms,
                    client_id=events.client_id or f"{process}@{socket.gethostname()}")


class PeerWatch(Service):
    """Announces this process on the bus and answers the others' announcements, so every
    process logs which others are up and an operator sees the events flow between them."""

    name = "peer-watch"

    def __init__(self, core: Core):
        self.core = core
        self.peers: dict[str, dict[str, Any]] = {}
        core.bus.subscribe("process.*", self._on_event)

    def _about_me(self) -> dict[str, Any]:
        return {"process": self.core.process, "holder": self.core.holder,
                "host": socket.gethostname(), "pid": os.getpid()}

    def _emit(self, event_type: str, data: dict[str, Any]) -> None:
        d = self.core.database.run("announce_process", emit, event_type, data,
                                   occurred_at=self.core.clock.now())
        d.addCallback(lambda event: log.info("announced {holder} as {type} event {event_id}",
                                             holder=self.core.holder, type=event_type,
                                             event_id=event.id))
        d.addErrback(lambda f: log.warn("could not announce this process: {error}",
                                        error=f.getErrorMessage()))

    def startService(self) -> None:
        super().startService()
        self._emit("process.started", self._about_me())

    def _on_event(self, event) -> None:
        holder = event.data.get("holder", "?")
        if holder == self.core.holder:
            return
        self.peers[holder] = event.data
        if event.type == "process.started":
            log.info("peer {holder} started (event {event_id})", holder=holder,
                     event_id=event.id)
            self._emit("process.alive", {**self._about_me(), "to": holder})
        elif event.type == "process.alive" and event.data.get("to") == self.core.holder:
            log.info("peer {holder} is up (event {event_id})", holder=holder, event_id=event.id)


def build_core(settings: Settings, process: str, reactor: Any = None) -> tuple[Core, MultiService]:
    if reactor is None:
        from twisted.internet import reactor  # noqa: PLC0415
    database = Database(settings.database, reactor)
    _check_schema(database)
    clock = BillingClock(reactor, settings.billing.zone)
    bus = make_bus(settings, reactor, process)
    holder = f"{process}@{socket.gethostname()}:{os.getpid()}"
    core = Core(settings, reactor, clock, database, bus, process, holder,
                ReopenOnHangup(reactor))
    top = MultiService()
    core.logs.setServiceParent(top)
    database.setServiceParent(top)
    bus.setServiceParent(top)
    OutboxRelay(database, bus, clock, holder, settings.events.relay_interval,
                settings.events.relay_batch).setServiceParent(top)
    PeerWatch(core).setServiceParent(top)
    return core, top


def _check_schema(database: Database) -> None:
    try:
        current = migrate.current_revision(database.engine)
    except Exception as exc:
        raise StartupError(f"cannot open the database: {exc}") from None
    head = migrate.head_revision()
    if current != head:
        raise StartupError(f"the database schema is at {current or 'nothing'}, this version "
                           f"needs {head}: run `bgbilling init`")


def http_resource(services: ApiServices, api: Any = None):
    """What bgserver serves: the JSON API (``api``, or one built here), and the
    subscriber cabinet under /cabinet/."""
    from bgserver.cabinet.service import CabinetService  # noqa: PLC0415
    from bgserver.cabinet.web import CabinetWeb  # noqa: PLC0415
    cabinet = CabinetService(services.database, services.clock, services.settings,
                             services.contracts, services.params, services.tariffs,
                             services.auth.attempts,
                             tuple(page for module_type in services.registry
                                   for page in module_type.cabinet_pages))
    return Root((api or build_api(services)).resource(),
                {b"cabinet": CabinetWeb(cabinet, services.clock).resource()})


def add_server(core: Core, parent: MultiService) -> None:
    resource = http_resource(ApiServices.build(core.database, core.bus, core.clock,
                                               core.settings, module_registry()))
    try:
        access_log = AccessLog.open(core.reactor, core.settings.server.access_log)
    except OSError as exc:
        raise StartupError(f"server.access_log: cannot write {exc.filename}: "
                           f"{exc.strerror}") from None
    access_log.setServiceParent(parent)  # added first, stopped last: flushes after http
    if core.logs is not None:
        core.logs.add(access_log.reopen)
    site = BillingSite.from_settings(resource, core.reactor, access_log, core.settings.server)
    http = strports.service(core.settings.server.listen, site, reactor=core.reactor)
    http.setName("http")
    http.setServiceParent(parent)


def add_scheduler(core: Core, parent: MultiService) -> None:
    s = core.settings.scheduler
    SchedulerService(core.task_context, task_types(module_registry()), core.holder, s.tick,
                     s.lease_seconds, s.catch_up_days, bus=core.bus).setServiceParent(parent)


def make_loader(core: Core) -> Loader:
    s = core.settings.loader
    return Loader(core.database, core.clock, module_registry(), core.holder, s.batch_lines,
                  s.lease_seconds)


def add_loader(core: Core, parent: MultiService) -> None:
    s = core.settings.loader
    LoaderService(make_loader(core), Path(s.spool), s.poll_interval,
                  s.settle_seconds).setServiceParent(parent)


PARTS = {"bgserver": (add_server,), "bgscheduler": (add_scheduler,),
         "bgloader": (add_loader,), "bgbilling": (add_server, add_scheduler, add_loader)}


def settle_heap_at_start(reactor: Any = None) -> None:
    """For a long-running process: once it runs, what exists (modules, the service tree,
    caches) leaves the garbage collector's sight. A full collection then looks only at
    what came later; before, each one stopped every request in flight for 20-50 ms."""
    if reactor is None:
        from twisted.internet import reactor  # noqa: PLC0415 - the global default
    reactor.callWhenRunning(gc.freeze)


def make_service(process: str, config: str | None = None, reactor: Any = None) -> MultiService:
    """The service tree of one process (``bgbilling`` is all three in one)."""
    try:
        settings = load_settings(config)
        core, top = build_core(settings, process, reactor)
        for add in PARTS[process]:
            add(core, top)
    except (ConfigError, StartupError) as exc:
        print(f"{process}: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    if process != "bgbilling" and settings.events.broker == "local":
        log.warn("events.broker is 'local': events stay inside {process}; "
                 "set stomp://host:61613 to reach the other processes", process=process)
    if process in ("bgserver", "bgbilling"):
        log.info("{process} listening on {listen}", process=process,
                 listen=settings.server.listen)
    top.core = core  # for tests and tools
    return top
