"""Live screens: the bus's events, from whatever source streams them, to the open screens.

The source is pluggable: anything that, given the id of the last event seen (or None),
answers an async iterator of events — ``GET /api/v1/events`` through the client, or a test's
own list. :class:`LiveFeed` reads it, reconnects after a break asking from the last id (so
nothing is missed and nothing repeats), and hands each event to the screens that subscribed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, AsyncIterator, Callable

from bgshared.api.views import Event

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
        self.connected = False

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
                    self.connected = True
                    delay = retry_seconds
                    self.feed(raw)
            except asyncio.CancelledError:
                self.connected = False
                raise
            except Exception as exc:  # the stream broke: the server restarts, the net drops
                log.info("event stream broke: %s", exc)
            self.connected = False
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_retry_seconds)
