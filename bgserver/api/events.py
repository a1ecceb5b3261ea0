"""Live events: ``GET /api/v1/events``, server-sent events for the operators' live screens.

Each event the caller may see (:mod:`bgserver.events.live`), as
``id: <id>\\nevent: <type>\\ndata: <the event's JSON>\\n\\n``; a ``: ping`` comment every
``events.stream_heartbeat_seconds``; ``Last-Event-ID`` resumes after that event. The
stream ends when the caller's token is revoked, expires or loses ``contract.read``.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from bgserver.api.routing import Api, Stream, bearer_token
from bgserver.billing.errors import Invalid, Unauthenticated
from bgserver.events.live import Listener
from bgserver.storage.database import DatabaseUnavailable

log = Logger()

READ = "contract.read"
#: Tells the client to wait this long before reconnecting, milliseconds.
RETRY_MS = 2000


def register(api: Api, s: Any) -> None:
    @api.route("GET", "/api/v1/events", READ,
               "Live events the caller may see (text/event-stream): `id`, `event` (the "
               "type), `data` (the event's JSON); a `: ping` comment as a heartbeat; "
               "header Last-Event-ID resumes after that event",
               query={"last_event_id": "as the Last-Event-ID header, for clients that "
                                       "cannot set it"})
    async def events(call):
        raw = call.header("Last-Event-ID") or call.query("last_event_id")
        last_id = None
        if raw:
            try:
                last_id = int(raw)
            except ValueError:
                raise Invalid("Last-Event-ID is not an id this server gave",
                              {"last_event_id": raw}) from None
        stream = EventStream(s, call.caller, bearer_token(call.request), call.address)
        return Stream(lambda request: stream.run(request, last_id))


class EventStream:
    """One client's stream: writes what the feed hands it, pings, and ends when the
    caller may no longer read contracts."""

    def __init__(self, services: Any, caller, token: str | None, address: str):
        self.services = services
        self.token = token
        self.address = address
        self.listener = Listener(caller, self.write, self.recheck)
        self.request = None
        self.ended: Deferred = Deferred()
        self._checking = False

    async def run(self, request, last_id: int | None) -> None:
        self.request = request
        request.write(f"retry: {RETRY_MS}\n\n".encode())  # and the headers go out now
        live = self.services.live
        heartbeat = LoopingCall(self.ping)
        heartbeat.clock = live.reactor
        try:
            await live.open(self.listener, last_id)
            heartbeat.start(self.services.settings.events.stream_heartbeat_seconds, now=False)
            await self.ended
        finally:
            if heartbeat.running:
                heartbeat.stop()
            live.close(self.listener)

    def write(self, data: bytes) -> None:
        if not self.ended.called and not self.request.finished \
                and not getattr(self.request, "_disconnected", False):
            self.request.write(data)

    def end(self) -> None:
        if not self.ended.called:
            self.ended.callback(None)

    def ping(self) -> None:
        self.write(b": ping\n\n")
        self.recheck()

    def recheck(self) -> None:
        """The token again (the auth cache makes this cheap): revoked or expired, or
        without ``contract.read`` now, the stream ends; new groups apply at once."""
        if self._checking or self.ended.called:
            return
        self._checking = True
        Deferred.fromCoroutine(self._recheck()).addErrback(
            lambda failure: log.failure("event stream: checking the caller failed", failure))

    async def _recheck(self) -> None:
        try:
            caller = await self.services.auth.authenticate(self.token, self.address)
        except Unauthenticated:
            self.end()
            return
        except DatabaseUnavailable:
            return  # the next ping tries again
        finally:
            self._checking = False
        if not caller.can(READ):
            self.end()
        else:
            self.listener.caller = caller
