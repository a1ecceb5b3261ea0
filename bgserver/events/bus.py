"""The event bus interface and what every implementation shares: subscriptions by type
pattern and dropping duplicates by event id."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable

from twisted.internet.defer import Deferred, maybeDeferred
from twisted.logger import Logger

from bgserver.events import Event, type_matches

log = Logger()

Handler = Callable[[Event], "Deferred[Any] | None"]


class BrokerUnavailable(Exception):
    """The broker did not take the event; it stays in the outbox for the next pass."""


class SeenIds:
    """The last ``size`` event ids a consumer handled: at-least-once becomes once."""

    def __init__(self, size: int = 10_000):
        self.size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def add(self, event_id: str) -> bool:
        """Remember the id; False if it was seen already."""
        if event_id in self._ids:
            self._ids.move_to_end(event_id)
            return False
        self._ids[event_id] = None
        if len(self._ids) > self.size:
            self._ids.popitem(last=False)
        return True

    def forget(self, event_id: str) -> None:
        """An event whose handling failed may come again and must then be handled."""
        self._ids.pop(event_id, None)


class Subscription:
    def __init__(self, pattern: str, handler: Handler, durable: str | None = None,
                 others_only: bool = False):
        self.pattern = pattern
        self.handler = handler
        self.durable = durable
        self.others_only = others_only
        self.seen = SeenIds()

    @property
    def destination(self) -> str:
        """The broker's topic for this pattern (``>`` and ``*`` are ActiveMQ wildcards)."""
        return "/topic/bgbilling." + self.pattern

    def deliver(self, event: Event) -> "Deferred[Any]":
        """Call the handler once per event id; a failure is logged and passed on (the
        STOMP bus then leaves the message unacknowledged for redelivery)."""
        if not self.seen.add(event.id):
            return maybeDeferred(lambda: None)
        d = maybeDeferred(self.handler, event)

        def failed(failure):
            self.seen.forget(event.id)
            log.failure("event handler for {pattern} failed on {type} {id}", failure,
                        pattern=self.pattern, type=event.type, id=event.id)
            return failure

        return d.addErrback(failed)


class EventBus:
    """What the relay publishes to and what consumers subscribe to."""

    def __init__(self) -> None:
        self.subscriptions: list[Subscription] = []
        #: True while what any process publishes reaches this bus's subscribers.
        self.connected = False
        #: How many times it has connected: a subscriber that is not durable missed
        #: whatever was published between two sessions.
        self.sessions = 0

    def subscribe(self, pattern: str, handler: Handler, durable: str | None = None,
                  others_only: bool = False) -> Subscription:
        """``pattern`` is an event type with wildcards (``payment.*``, ``>`` for all);
        ``durable`` names a subscription the broker keeps while the consumer is away;
        ``others_only`` leaves out the events this process committed and publishes itself
        (``own``), which it handled at the commit."""
        subscription = Subscription(pattern, handler, durable, others_only)
        self.subscriptions.append(subscription)
        return subscription

    def matching(self, event: Event) -> list[Subscription]:
        return [s for s in self.subscriptions if type_matches(s.pattern, event.type)]

    def publish(self, event: Event) -> "Deferred[None]":
        return self.publish_many([event])

    def publish_many(self, events: list[Event], own: bool = False) -> "Deferred[None]":
        """Publish ``events`` in order; ``own``: this process committed them. On failure
        some may have gone out all the same: the caller publishes them all again, and
        consumers drop duplicates by id."""
        raise NotImplementedError

    def status(self) -> dict[str, Any]:
        raise NotImplementedError
