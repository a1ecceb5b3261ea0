"""Live screens: the bus's events, from whatever source streams them, to the open screens.

The usual source is ``GET /api/v1/events`` through the client
(:meth:`LiveFeed.follow`: :meth:`BillingClient.follow_events` reconnects by itself from the
last id, so nothing is missed and nothing repeats). Another source can be plugged in:
anything that, given the id of the last event seen (or None), answers an async iterator
of events (:meth:`LiveFeed.run`). Either way each event goes to the screens that
subscribed, once.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable

from twisted.internet import defer

from bgshared.api.views import Event

if TYPE_CHECKING:
    from bgshared.client import BillingClient, EventFollower

log = logging.getLogger(__name__)

#: ``open(last_event_id)`` -> an async iterator of events (dicts or :class:`Event`).
EventSource = Callable[[str | None], AsyncIterator[Any]]
Listener = Callable[[Event], None]


class LiveFeed:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        #: The id of the last event handed out, for resumption and to drop repeats.
        self.last_id: str | None = None
        self._seen: set[str] = set()
        self._connected = False
        #: The open ``GET /api/v1/events`` while following the server.
        self.follower: EventFollower | None = None

    @property
    def connected(self) -> bool:
        """Whether events arrive now (the stream is open)."""
        return self._connected or bool(self.follower and self.follower.connected)

    def follow(self, client: "BillingClient") -> "EventFollower":
        """Follow the server's event stream with the client's token, from the last event
        handed out (nothing missed after a log-in again). Stops a stream already open."""
        self.stop()
        self.follower = client.follow_events(self.feed, last_event_id=self.last_id)
        self.follower.done.addErrback(self._ended)
        return self.follower

    def _ended(self, failure: Any) -> None:
        # 401 (the session ended) or 403: the screens work on without live updates until
        # the operator logs in again, which follows the stream anew.
        log.info("event stream ended: %s", failure.getErrorMessage())

    def stop(self) -> defer.Deferred:
        """Close the stream, if one is open; fires once it is closed."""
        follower, self.follower = self.follower, None
        if follower is None:
            return defer.succeed(None)
        return follower.stop()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(event)`` for every event from now on; answers the unsubscribe."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def feed(self, raw: Any) -> Event | None:
        """One event from the source: parsed, deduplicated by id, handed out."""
        event = raw if isinstance(raw, Event) else Event.model_validate(raw)
        if event.id in self._seen:
            return None  # at least once on the bus: a repeat is dropped here
        self._seen.add(event.id)
        if len(self._seen) > 10_000:
            self._seen = {event.id}
        self.last_id = event.id
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # one broken screen must not stop the feed for the others
                log.exception("live listener failed on %s", event.type)
        return event

    async def run(self, source: EventSource, retry_seconds: float = 1.0,
                  max_retry_seconds: float = 15.0) -> None:
        """Read ``source`` for good: after a break, open it again from :attr:`last_id`."""
        delay = retry_seconds
        while True:
            try:
                async for raw in source(self.last_id):
                    self._connected = True
                    delay = retry_seconds
                    self.feed(raw)
            except asyncio.CancelledError:
                self._connected = False
                raise
            except Exception as exc:  # the stream broke: the server restarts, the net drops
                log.info("event stream broke: %s", exc)
            self._connected = False
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_retry_seconds)
