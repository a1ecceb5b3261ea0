"""The in-process bus of the all-in-one ``bgbilling`` service."""

from __future__ import annotations

from typing import Any

from twisted.application.service import Service
from twisted.internet.defer import Deferred, succeed

from bgserver.events import Event
from bgserver.events.bus import EventBus


class LocalBus(EventBus, Service):
    """Delivers on the next reactor turn, never inside the publisher's call stack."""

    name = "event-bus"

    def __init__(self, reactor: Any):
        EventBus.__init__(self)
        self.reactor = reactor
        self.published = 0
        self.connected, self.sessions = True, 1  # in-process: nothing to lose

    def publish_many(self, events: list[Event], own: bool = False) -> "Deferred[None]":
        for event in events:
            self.published += 1
            for subscription in self.matching(event):
                if not (own and subscription.others_only):
                    self.reactor.callLater(0, self._deliver, subscription, event)
        return succeed(None)

    @staticmethod
    def _deliver(subscription, event: Event) -> None:
        # The failure is logged by deliver(); in-process there is nobody to redeliver.
        subscription.deliver(event).addErrback(lambda _failure: None)

    def status(self) -> dict[str, Any]:
        return {"broker": "local", "connected": self.connected}
