"""Committed events for the clients' live streams (``GET /api/v1/events``).

The streams follow the outbox table, not the bus: an outbox row's id is the order in which
events were stored, so it is an event id a client can resume from (``Last-Event-ID``)
without missing or repeating anything, whichever process committed the event. The bus and
this process's commits only say *when* to look: one read per batch of events for all the
streams of the process (at most one every ``interval`` seconds), each event's frame built
once and one write per stream per batch; a stream limited to contract groups gets the
events of contracts it sees, the groups of a contract read once and remembered.

Ids are handed out in insertion order but transactions may commit out of it (MariaDB):
a missing id is waited for (``gap_seconds``) before the feed goes past it, so that an
event committed a moment late still comes in order. An id of a transaction that rolled
back never comes: after ``gap_seconds`` it is given up.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from twisted.internet.defer import Deferred, ensureDeferred
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from bgserver.billing.access import Caller
from bgserver.events import outbox
from bgserver.storage import contracts as contract_store

log = Logger()

#: (outbox id, contract id, type, payload) as :func:`outbox.rows_after` reads them.
Row = tuple[int, "int | None", str, str]

#: Events about access itself (``access.revoked``): the streams check their callers again;
#: the events are not sent (they concern sessions and keys, not contracts).
ACCESS_PREFIX = "access."


def frame(row: Row) -> bytes:
    """One server-sent event: ``id``, ``event`` (its type) and the event's JSON as data."""
    event_id, _, event_type, payload = row
    return f"id: {event_id}\nevent: {event_type}\ndata: {payload}\n\n".encode()


@dataclass(eq=False)
class Listener:
    """One open stream as the feed sees it."""
    caller: Caller
    #: Takes the frames of a batch, joined.
    write: Callable[[bytes], None]
    #: Called when access changed somewhere: the stream checks its token again.
    recheck: Callable[[], None]


class LiveEvents:
    """The feed of one bgserver process: reads the outbox only while streams are open."""

    def __init__(self, database: Any, bus: Any, *, on_access: Callable[[], None] = lambda: None,
                 batch: int = 1000, interval: float = 0.25, poll: float = 1.0,
                 gap_seconds: float = 5.0, remember: int = 100_000):
        self.database = database
        self.reactor = database.reactor
        self.on_access = on_access
        self.batch = batch
        self.interval = interval
        self.gap_seconds = gap_seconds
        self.remember = remember
        self.listeners: set[Listener] = set()
        #: Streams open (attached or still replaying).
        self.users = 0
        #: The last outbox id handed to the listeners; None while no stream is open.
        self.position: int | None = None
        self._starting: list[Deferred] | None = None
        self._reading = False
        self._again = False
        self._next_read = None
        self._last_read = 0.0
        #: (position, monotonic time) at which a missing id was first seen.
        self._gap: tuple[int, float] | None = None
        #: Contract id -> its groups, for streams limited to groups.
        self._groups: OrderedDict[int, tuple[int, ...]] = OrderedDict()
        self._poll = LoopingCall(self.wake)
        self._poll.clock = self.reactor
        self._poll_seconds = poll
        database.on_commit(lambda events: self.wake())
        # other processes' events; ours come from the commit above, sooner
        bus.subscribe(">", lambda event: self.wake(), others_only=True)

    # -- streams -----------------------------------------------------------------------

    async def open(self, listener: Listener, last_id: int | None) -> None:
        """Attach a stream: first the events after ``last_id`` (None: only new ones)."""
        self.users += 1
        try:
            if self.position is None:
                await self._start()
            while last_id is not None and self.position is not None \
                    and last_id < self.position:
                last_id = await self._replay(listener, last_id, self.position)
            self.listeners.add(listener)  # caught up with the feed: from here on, live
        except BaseException:
            self.close(listener)
            raise

    def close(self, listener: Listener) -> None:
        if listener in self.listeners:
            self.listeners.discard(listener)
        self.users -= 1
        if self.users == 0:
            self.position, self._gap = None, None
            if self._poll.running:
                self._poll.stop()
            if self._next_read is not None and self._next_read.active():
                self._next_read.cancel()
            self._next_read = None

    async def _start(self) -> None:
        if self._starting is not None:
            waiting: Deferred = Deferred()
            self._starting.append(waiting)
            await waiting
            return
        self._starting = []
        try:
            position = await self.database.run("live_events_start", outbox.last_id,
                                               readonly=True)
            if self.users and self.position is None:
                self.position = position
                self._poll.start(self._poll_seconds, now=False)
        finally:
            waiting_list, self._starting = self._starting, None
            for waiting in waiting_list:
                waiting.callback(None)

    async def _replay(self, listener: Listener, after: int, up_to: int) -> int:
        """Events in (after, up_to] to one stream; -> how far it got."""
        rows = await self.database.run("live_events_replay", outbox.rows_after, after,
                                       self.batch, up_to, readonly=True)
        groups = await self._groups_of(rows, [listener])
        data = b"".join(frame(r) for r in rows if self._visible(listener.caller, r, groups))
        if data:
            listener.write(data)
        return rows[-1][0] if len(rows) == self.batch else up_to

    # -- reading the outbox ------------------------------------------------------------

    def wake(self) -> None:
        """Something was committed: read the outbox soon (one read at a time, at most one
        every ``interval`` seconds)."""
        if self.position is None or not self.listeners:
            return
        if self._reading:
            self._again = True
            return
        if self._next_read is not None:
            return
        delay = max(0.0, self._last_read + self.interval - self.reactor.seconds())
        self._next_read = self.reactor.callLater(delay, self._read)

    def _read(self) -> None:
        self._next_read = None
        if self.position is None:
            return
        self._reading, self._again = True, False
        self._last_read = self.reactor.seconds()
        d = ensureDeferred(self._read_once())
        d.addErrback(lambda failure: log.failure("live events: reading the outbox failed",
                                                 failure) or True)
        d.addCallback(self._read_done)

    def _read_done(self, more: bool) -> None:
        self._reading = False
        if more or self._again:
            self.wake()

    async def _read_once(self) -> bool:
        """Hand the next events in id order to the listeners; -> whether to read again."""
        start = self.position
        rows = await self.database.run("live_events", outbox.rows_after, start, self.batch,
                                       readonly=True)
        ready, waiting = self._in_order(start, rows)
        if ready:
            groups = await self._groups_of(ready, self.listeners)
            if self.position != start:  # every stream closed meanwhile
                return False
            self.position = ready[-1][0]
            self._hand_out(ready, groups)
        return waiting or len(rows) == self.batch

    def _in_order(self, start: int, rows: list[Row]) -> tuple[list[Row], bool]:
        """The rows up to the first missing id not yet given up; -> (rows, waiting)."""
        expected, ready = start + 1, []
        for row in rows:
            if row[0] != expected:
                now = time.monotonic()
                if self._gap is None or self._gap[0] != expected - 1:
                    self._gap = (expected - 1, now)
                if now - self._gap[1] < self.gap_seconds:
                    return ready, True
                log.info("live events: ids {first}..{last} never came; going on",
                         first=expected, last=row[0] - 1)
            ready.append(row)
            expected = row[0] + 1
        return ready, False

    def _hand_out(self, rows: list[Row], groups: dict[int, tuple[int, ...]]) -> None:
        """Each frame built once; streams that see the same contracts share one join."""
        if any(r[2].startswith(ACCESS_PREFIX) for r in rows):
            self.on_access()
            for listener in list(self.listeners):
                listener.recheck()
        frames = [(r, frame(r)) for r in rows if not r[2].startswith(ACCESS_PREFIX)]
        if not frames:
            return
        joined: dict[frozenset[int] | None, bytes] = {}
        for listener in list(self.listeners):
            view = listener.caller.groups
            data = joined.get(view)
            if data is None:
                data = joined[view] = b"".join(
                    f for r, f in frames if self._visible(listener.caller, r, groups))
            if data:
                listener.write(data)

    @staticmethod
    def _visible(caller: Caller, row: Row, groups: dict[int, tuple[int, ...]]) -> bool:
        if row[2].startswith(ACCESS_PREFIX):
            return False
        contract_id = row[1]
        return contract_id is None or caller.sees(groups.get(contract_id, ()))

    # -- contract groups ---------------------------------------------------------------

    async def _groups_of(self, rows: list[Row],
                         listeners: Iterable[Listener]) -> dict[int, tuple[int, ...]]:
        """The groups of the rows' contracts, if any listener is limited to groups: read
        for contracts not remembered, and for those whose ``contract.*`` event is among the
        rows (their groups may have just changed)."""
        if all(listener.caller.groups is None for listener in listeners):
            return {}
        ids = {r[1] for r in rows if r[1] is not None}
        changed = {r[1] for r in rows if r[1] is not None and r[2].startswith("contract.")}
        missing = sorted(i for i in ids if i in changed or i not in self._groups)
        if missing:
            found = await self.database.run("live_events_groups", contract_store.groups_of,
                                            missing, readonly=True)
            for contract_id, group_ids in found.items():
                self._groups[contract_id] = tuple(group_ids)
                self._groups.move_to_end(contract_id)
            while len(self._groups) > self.remember:
                self._groups.popitem(last=False)
        return {i: self._groups.get(i, ()) for i in ids}
