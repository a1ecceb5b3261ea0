"""The transactional outbox: events stored with the change, relayed to the bus afterwards."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.engine import Connection
from twisted.application.service import Service
from twisted.internet.defer import FirstError, inlineCallbacks
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from bgserver.events import Event
from bgserver.storage.database import Database, insert_later, note_event
from bgserver.storage.schema import outbox

log = Logger()

#: A claimed batch not published within this time may be claimed by another relay.
CLAIM_SECONDS = 60
#: The same for events their own process publishes from memory after the commit: if it
#: stops first, the polls publish them this much later.
FRESH_CLAIM_SECONDS = 10


def emit(conn: Connection, event_type: str, data: dict[str, Any], *, occurred_at: datetime,
         contract_id: int | None = None) -> Event:
    """Store an event in the caller's transaction: it exists if and only if the change does."""
    event = Event(type=event_type, occurred_at=occurred_at, data=data, contract_id=contract_id)
    holder = note_event(conn, event)
    insert_later(conn, outbox, {
        "event_id": event.id, "type": event.type, "contract_id": contract_id,
        "occurred_at": occurred_at, "payload": event.to_json(), "claimed_by": holder,
        "claimed_until": occurred_at + timedelta(seconds=FRESH_CLAIM_SECONDS) if holder
        else None})
    return event


def claim_batch(conn: Connection, holder: str, now: datetime, limit: int) -> list[Event]:
    """Take up to ``limit`` unpublished events nobody else holds, oldest first."""
    free = and_(outbox.c.published_at.is_(None),
                or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < now))
    query = select(outbox.c.id, outbox.c.payload).where(free).order_by(outbox.c.id).limit(limit)
    if conn.dialect.name == "mysql":
        query = query.with_for_update(skip_locked=True)
    rows = conn.execute(query).all()
    if not rows:
        return []
    conn.execute(update(outbox).where(outbox.c.id.in_([row.id for row in rows]))
                 .values(claimed_by=holder, claimed_until=now + timedelta(seconds=CLAIM_SECONDS)))
    return [Event.from_json(row.payload) for row in rows]


def finish_batch(conn: Connection, holder: str, published: list[str], now: datetime,
                 release_rest: bool = True) -> None:
    """Mark what the bus took as published; free the rest of the claim for the next pass
    (nothing to free when the bus took them all)."""
    _mark_published(conn, published, now)
    if release_rest:
        conn.execute(update(outbox).where(outbox.c.claimed_by == holder,
                                          outbox.c.published_at.is_(None))
                     .values(claimed_by=None, claimed_until=None))


def settle_fresh(conn: Connection, published: list[str], refused: list[str],
                 now: datetime) -> None:
    """After publishing events from memory: mark those the bus took, and free the claim
    on those it refused so that the next poll retries them."""
    _mark_published(conn, published, now)
    if refused:
        conn.execute(update(outbox).where(outbox.c.event_id.in_(refused))
                     .values(claimed_by=None, claimed_until=None))


def _mark_published(conn: Connection, event_ids: list[str], now: datetime) -> None:
    if event_ids:
        conn.execute(update(outbox).where(outbox.c.event_id.in_(event_ids))
                     .values(published_at=now, claimed_until=None))


def prune(conn: Connection, before: datetime) -> int:
    """Delete events published before ``before``; returns how many."""
    return conn.execute(delete(outbox).where(outbox.c.published_at < before)).rowcount


def last_id(conn: Connection) -> int:
    """The id of the newest event stored (0: none): where a live feed starts."""
    from sqlalchemy import func  # noqa: PLC0415
    return conn.execute(select(func.max(outbox.c.id))).scalar() or 0


def rows_after(conn: Connection, after_id: int, limit: int,
               up_to: int | None = None) -> list[tuple[int, int | None, str, str]]:
    """Committed events by outbox id (their order of insertion): (id, contract id, type,
    payload) of those after ``after_id`` (and at most ``up_to``), published or not."""
    query = (select(outbox.c.id, outbox.c.contract_id, outbox.c.type, outbox.c.payload)
             .where(outbox.c.id > after_id).order_by(outbox.c.id).limit(limit))
    if up_to is not None:
        query = query.where(outbox.c.id <= up_to)
    return [tuple(row) for row in conn.execute(query)]


def pending_count(conn: Connection) -> int:
    from sqlalchemy import func  # noqa: PLC0415
    return conn.execute(select(func.count()).select_from(outbox)
                        .where(outbox.c.published_at.is_(None))).scalar_one()


class OutboxRelay(Service):
    """Publishes committed events to the bus. The events a unit of work of this process
    wrote come from memory right after its commit (a few at once, ``settle`` seconds
    apart); every ``interval`` seconds a poll takes whatever is left in the outbox: events
    of other processes without a relay (the command line), events the bus refused, and
    claims of a relay that went away."""

    name = "outbox-relay"

    def __init__(self, database: Database, bus: Any, clock: Any, holder: str,
                 interval: float = 1.0, batch: int = 500, settle: float = 0.01):
        self.database = database
        self.bus = bus
        self.clock = clock
        self.holder = holder
        self.interval = interval
        self.batch = batch
        self.settle = settle
        self._loop: LoopingCall | None = None
        self._running = False
        #: After failed polls (database away) the relay waits longer, up to a minute.
        self._failures = 0
        self._resume_at = 0.0
        #: Committed events of this process, waiting to be published from memory.
        self._fresh: list[Event] = []
        self._flushing: Any = None

    def startService(self) -> None:
        super().startService()
        self.database.publish_after_commit(self.holder, self.accept)
        self._loop = LoopingCall(self.wake)
        self._loop.clock = self.database.reactor
        self._loop.start(self.interval, now=True)

    def stopService(self):
        super().stopService()
        self.database.stop_publishing(self.accept)
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        if self._flushing is not None and self._flushing.active():
            # the services around it stop too; these events' claims lapse for the polls
            self._flushing.cancel()
            self._flushing = None

    # -- this process's events, from memory ---------------------------------------------

    def accept(self, events: list[Event]) -> None:
        """Events of a unit of work that just committed."""
        self._fresh.extend(events)
        if self._flushing is None:
            self._flushing = self.database.reactor.callLater(self.settle, self._flush)

    @inlineCallbacks
    def _flush(self):
        try:
            while self._fresh:
                events, self._fresh = self._fresh, []
                published, refused = yield self._publish(events, own=True)
                try:
                    yield self.database.run("outbox_published", settle_fresh, published,
                                            refused, self.clock.now())
                except Exception as exc:  # the claims lapse; a poll publishes them again
                    log.warn("event relay could not mark {count} events published ({error})",
                             count=len(events), error=repr(exc))
        finally:
            self._flushing = None

    # -- whatever is left in the outbox, by polling -------------------------------------

    def wake(self) -> None:
        """Start a poll unless one is running."""
        if not self.running or self._running \
                or self.database.reactor.seconds() < self._resume_at:
            return
        self._running = True
        self._pass().addBoth(self._pass_done)

    def _pass_done(self, result: Any) -> None:
        self._running = False

    @inlineCallbacks
    def _pass(self):
        try:
            yield self._relay()
        except Exception as exc:  # keep relaying on a later pass whatever this one hit
            self._failures += 1
            pause = min(self.interval * 2 ** self._failures, 60.0)
            self._resume_at = self.database.reactor.seconds() + pause
            log.warn("event relay pass failed ({error}); next try in {pause:.0f}s",
                     error=repr(exc), pause=pause)
        else:
            self._failures = 0

    @inlineCallbacks
    def _relay(self):
        """Publish batch after batch until none is left or the bus refuses some."""
        while True:
            events = yield self.database.run(
                "outbox_claim", claim_batch, self.holder, self.clock.now(), self.batch)
            if not events:
                return
            published, refused = yield self._publish(events)
            yield self.database.run("outbox_finish", finish_batch, self.holder,
                                    published, self.clock.now(), bool(refused))
            if refused or len(events) < self.batch:
                return

    @inlineCallbacks
    def _publish(self, events: list[Event], own: bool = False):
        """Hand events to the bus (``own``: committed by this process); -> (ids it took,
        ids it refused)."""
        ids = [e.id for e in events]
        try:
            yield self.bus.publish_many(events, own)
        except Exception as exc:
            reason = exc.subFailure.getErrorMessage() if isinstance(exc, FirstError) else str(exc)
            log.warn("event relay: {total} events not published ({reason}); will retry",
                     total=len(events), reason=reason)
            return [], ids
        return ids, []
