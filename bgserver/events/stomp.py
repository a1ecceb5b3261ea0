"""The bus over ActiveMQ's STOMP connector (stomp.py), for processes on separate machines.

stomp.py is blocking and runs its own receiver thread. Here every frame we send goes out
from one writer thread, in order; every frame that arrives is handed to the reactor thread
with ``callFromThread``. Publishing waits for the broker's receipt of persistent messages,
so the relay marks events published only once the broker has them. A lost connection is
re-opened with back-off and the subscriptions restored; durable subscriptions keep what was
published meanwhile.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

import stomp
from stomp.exception import StompException
from twisted.application.service import Service
from twisted.internet import threads
from twisted.internet.defer import Deferred, fail, succeed
from twisted.logger import Logger
from twisted.python.threadpool import ThreadPool

from bgserver.events import Event
from bgserver.events.bus import BrokerUnavailable, EventBus, Subscription

log = Logger()

#: The message property naming the bus that published an event of its own process's
#: commits (a JMS selector can only name properties spelt as Java identifiers).
ORIGIN = "bgbilling_origin"


class _Listener(stomp.ConnectionListener):
    """Runs in stomp.py's receiver thread: only hands frames over to the reactor."""

    def __init__(self, bus: "StompBus", connection: stomp.Connection12):
        self.bus = bus
        self.connection = connection
        self.awaited: dict[str, threading.Event] = {}

    def expect(self, receipt: str) -> threading.Event:
        """A receipt the writer thread itself waits for (subscriptions in place)."""
        self.awaited[receipt] = threading.Event()
        return self.awaited[receipt]

    def on_message(self, frame):
        self.bus.reactor.callFromThread(self.bus._on_message, self.connection, frame.headers,
                                        frame.body)

    def on_receipt(self, frame):
        awaited = self.awaited.pop(frame.headers.get("receipt-id", ""), None)
        if awaited is not None:
            awaited.set()
            return
        self.bus.reactor.callFromThread(self.bus._on_receipt, frame.headers.get("receipt-id"))

    def on_error(self, frame):
        self.bus.reactor.callFromThread(self.bus._on_error, frame.headers.get("message", ""),
                                        frame.body)

    def on_disconnected(self):
        self.bus.reactor.callFromThread(self.bus._on_disconnected, self.connection)


class StompBus(EventBus, Service):
    name = "event-bus"

    def __init__(self, reactor: Any, host: str, port: int, *, login: str = "",
                 passcode: str = "", heartbeat_ms: int = 10_000, client_id: str = "",
                 receipt_timeout: float = 10.0, max_retry_delay: float = 5.0):
        EventBus.__init__(self)
        self.reactor = reactor
        self.address = (host, port)
        self.login = login
        self.passcode = passcode
        self.heartbeat_ms = heartbeat_ms
        self.client_id = client_id
        self.receipt_timeout = receipt_timeout
        self.max_retry_delay = max_retry_delay
        #: Marks the events this process publishes of its own commits.
        self.origin = uuid.uuid4().hex
        self._connection: stomp.Connection12 | None = None
        self._writer = ThreadPool(minthreads=1, maxthreads=1, name="stomp-writer")
        self._pending: dict[str, Deferred] = {}
        self._retry_delay = 0.2
        self._retry_call = None
        self._connecting = False
        self._stopping = False
        self._last_error = ""

    # -- lifecycle ---------------------------------------------------------------------

    def startService(self) -> None:
        super().startService()
        self._stopping = False
        self._writer.start()
        self._connect()

    def stopService(self) -> Deferred:
        super().stopService()
        self._stopping = True
        if self._retry_call is not None and self._retry_call.active():
            self._retry_call.cancel()
        connection, self._connection = self._connection, None
        self.connected = False
        self._fail_pending("the bus is stopping")

        d = self._in_writer(self._close, connection)
        d.addBoth(lambda _: threads.deferToThread(self._writer.stop))
        return d

    def _in_writer(self, fn, *args, **kwargs) -> Deferred:
        return threads.deferToThreadPool(self.reactor, self._writer, fn, *args, **kwargs)

    def _connect(self) -> None:
        if self._stopping or self._connecting:
            return
        self._connecting = True
        self._in_writer(self._open).addCallbacks(self._opened, self._open_failed)

    @staticmethod
    def _close(connection: stomp.Connection12 | None) -> None:
        """DISCONNECT and wait for the broker's receipt, so that nothing more arrives and
        the broker has let go of the client-id before a successor connects."""
        if connection is None:
            return
        try:
            if connection.is_connected():
                connection.disconnect(receipt=str(uuid.uuid4()))
        except (StompException, OSError):
            pass

    def _open(self) -> stomp.Connection12:
        connection = stomp.Connection12(
            [self.address], heartbeats=(self.heartbeat_ms, self.heartbeat_ms),
            reconnect_attempts_max=1, timeout=10, try_loopback_connect=False)
        listener = _Listener(self, connection)
        connection.set_listener("bgbilling", listener)
        headers = {"client-id": self.client_id} if self.client_id else {}
        try:
            connection.connect(self.login or None, self.passcode or None, wait=True,
                               headers=headers)
            if self.subscriptions:
                # The broker handles frames in order: once it confirms the last SUBSCRIBE,
                # all are in place, and "connected" means what is published now arrives.
                receipt = str(uuid.uuid4())
                in_place = listener.expect(receipt)
                last = len(self.subscriptions) - 1
                for index, subscription in enumerate(self.subscriptions):
                    self._subscribe(connection, index, subscription,
                                    receipt if index == last else None)
                if not in_place.wait(10):
                    raise BrokerUnavailable("the broker did not confirm the subscriptions")
        except Exception:
            self._close(connection)
            raise
        return connection

    def _subscribe(self, connection: stomp.Connection12, index: int,
                   subscription: Subscription, receipt: str | None = None) -> None:
        headers = {"receipt": receipt} if receipt else {}
        if subscription.durable:
            headers["activemq.subscriptionName"] = subscription.durable
        if subscription.others_only:
            headers["selector"] = f"{ORIGIN} IS NULL OR {ORIGIN} <> '{self.origin}'"
        connection.subscribe(subscription.destination, id=str(index), ack="client-individual",
                             headers=headers)

    def _opened(self, connection: stomp.Connection12) -> None:
        self._connecting = False
        if self._stopping:
            self._in_writer(self._close, connection)
            return
        self._connection = connection
        self.connected = True
        self.sessions += 1
        self._retry_delay = 0.2
        self._last_error = ""
        log.info("event bus connected to stomp://{host}:{port}", host=self.address[0],
                 port=self.address[1])

    def _open_failed(self, failure) -> None:
        self._connecting = False
        error = failure.getErrorMessage() or failure.type.__name__
        if error != self._last_error:
            log.warn("event bus cannot reach stomp://{host}:{port}: {error}; retrying",
                     host=self.address[0], port=self.address[1], error=error)
        self._last_error = error
        self._schedule_reconnect()

    def _schedule_reconnect(self) -> None:
        if self._stopping or (self._retry_call is not None and self._retry_call.active()):
            return
        self._retry_call = self.reactor.callLater(self._retry_delay, self._connect)
        self._retry_delay = min(self._retry_delay * 2, self.max_retry_delay)

    def _on_disconnected(self, connection: stomp.Connection12) -> None:
        if connection is not self._connection:
            return
        self._connection = None
        self.connected = False
        self._fail_pending("connection to the broker lost")
        if not self._stopping:
            log.warn("event bus lost the broker connection; reconnecting")
            self._schedule_reconnect()

    def _on_error(self, message: str, body: str) -> None:
        log.warn("broker error: {message} {body}", message=message, body=body[:500])
        # it may concern any frame not yet receipted: publish all of those again
        self._fail_pending(f"broker error: {message}")

    # -- publishing --------------------------------------------------------------------

    def publish_many(self, events: list[Event], own: bool = False) -> "Deferred[None]":
        """One receipt for the lot: the broker handles a connection's frames in order, so
        its receipt for the last says it has the others too. A receipt per event had cost
        the broker and both of our threads a frame each. ``own`` events carry this bus's
        :attr:`origin`, which its ``others_only`` subscriptions select out at the broker."""
        if not events:
            return succeed(None)
        connection = self._connection
        if connection is None or not self.connected:
            return fail(BrokerUnavailable("not connected to the broker"))
        receipt = str(uuid.uuid4())
        done: Deferred = Deferred()
        self._pending[receipt] = done
        timeout = self.reactor.callLater(self.receipt_timeout, self._receipt_timed_out, receipt)
        done.addBoth(self._cancel_timeout, timeout)
        origin = {ORIGIN: self.origin} if own else {}
        frames = [(e.topic, e.to_json(),
                   {"persistent": "true", "bgbilling-type": e.type, **origin})
                  for e in events]
        frames[-1][2]["receipt"] = receipt
        sent = self._in_writer(self._send_all, connection, frames)
        sent.addErrback(self._send_failed, receipt)
        return done

    @staticmethod
    def _send_all(connection: stomp.Connection12,
                  frames: list[tuple[str, str, dict[str, str]]]) -> None:
        for destination, body, headers in frames:
            connection.send(destination, body, content_type="application/json",
                            headers=headers)

    @staticmethod
    def _cancel_timeout(result: Any, timeout) -> Any:
        if timeout.active():
            timeout.cancel()
        return result

    def _send_failed(self, failure, receipt: str) -> None:
        done = self._pending.pop(receipt, None)
        if done is not None:
            done.errback(BrokerUnavailable(failure.getErrorMessage()))

    def _on_receipt(self, receipt: str | None) -> None:
        done = self._pending.pop(receipt or "", None)
        if done is not None:
            done.callback(None)

    def _receipt_timed_out(self, receipt: str) -> None:
        done = self._pending.pop(receipt, None)
        if done is not None:
            done.errback(BrokerUnavailable("no receipt from the broker"))

    def _fail_pending(self, reason: str) -> None:
        pending, self._pending = self._pending, {}
        for done in pending.values():
            done.errback(BrokerUnavailable(reason))

    # -- consuming ---------------------------------------------------------------------

    def subscribe(self, pattern, handler, durable=None, others_only=False) -> Subscription:
        subscription = super().subscribe(pattern, handler, durable, others_only)
        if durable and not self.client_id:
            raise ValueError("a durable subscription needs events.client_id")
        connection = self._connection
        if connection is not None and self.connected:
            index = len(self.subscriptions) - 1
            self._in_writer(self._subscribe, connection, index, subscription)
        return subscription

    def _on_message(self, connection: stomp.Connection12, headers: dict[str, str],
                    body: str) -> None:
        if self._stopping:
            return  # not acknowledged: the broker gives it to whoever subscribes next
        try:
            subscription = self.subscriptions[int(headers.get("subscription", ""))]
            event = Event.from_json(body)
        except (ValueError, IndexError, KeyError, TypeError) as exc:
            log.warn("dropped a message that is not a bgbilling event: {error}", error=repr(exc))
            subscription, event = None, None
        ack_id = headers.get("ack") or headers.get("message-id")
        if subscription is None:
            self._settle(connection, "ack", ack_id)
            return
        subscription.deliver(event).addCallbacks(
            lambda _: self._settle(connection, "ack", ack_id),
            lambda _: self._settle(connection, "nack", ack_id))

    def _settle(self, connection, verb: str, ack_id: str | None) -> None:
        """Acknowledge on the connection the message came by; if that one is gone, the
        broker redelivers the message and the consumer drops the duplicate by id."""
        if ack_id is None or not connection.is_connected():
            return

        def send() -> None:
            try:
                getattr(connection, verb)(ack_id)
            except (StompException, OSError) as exc:
                log.warn("could not {verb} a message: {error}", verb=verb, error=repr(exc))
        self._in_writer(send)

    def status(self) -> dict[str, Any]:
        return {"broker": f"stomp://{self.address[0]}:{self.address[1]}",
                "connected": self.connected}
