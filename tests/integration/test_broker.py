"""Events through a real ActiveMQ: publish and subscribe, durable subscriptions, and no
event lost while the broker is down."""

from __future__ import annotations

from contextlib import asynccontextmanager

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.python.threadable import isInIOThread

from bgserver.events import Event
from bgserver.events.bus import BrokerUnavailable
from bgserver.events.outbox import OutboxRelay, emit, pending_count
from bgserver.events.stomp import StompBus
from tests.support.waiting import wait_until

pytestmark = pytest.mark.activemq


def make_bus(broker, client_id: str = "") -> StompBus:
    return StompBus(reactor, "127.0.0.1", broker.port, client_id=client_id, heartbeat_ms=2000,
                    max_retry_delay=0.5)


@asynccontextmanager
async def running(*buses: StompBus):
    """The buses started and connected; stopped at the end."""
    for bus in buses:
        bus.startService()
    try:
        await wait_until(lambda: all(bus.connected for bus in buses))
        yield
    finally:
        for bus in buses:
            await bus.stopService()


class Inbox:
    """What a consumer received, and from which thread."""

    def __init__(self):
        self.events: list[Event] = []
        self.off_reactor = 0

    def __call__(self, event: Event) -> None:
        if not isInIOThread():
            self.off_reactor += 1
        self.events.append(event)

    def ids(self) -> set[str]:
        return {e.id for e in self.events}


@pytest_twisted.ensureDeferred
async def test_published_event_reaches_a_subscriber_on_the_reactor_thread(activemq, clock):
    publisher, consumer = make_bus(activemq), make_bus(activemq)
    inbox = Inbox()
    consumer.subscribe("payment.*", inbox)
    ignored = Inbox()
    consumer.subscribe("tariff.*", ignored)
    async with running(publisher, consumer):
        event = Event("payment.created", clock.now(), {"amount": "10.00"}, contract_id=3)
        await publisher.publish(event)
        await wait_until(lambda: inbox.events)
        assert inbox.events == [event]
        assert inbox.off_reactor == 0
        assert ignored.events == []
        assert publisher.status() == {"broker": activemq.url, "connected": True}


@pytest_twisted.ensureDeferred
async def test_events_published_together_all_arrive_in_order(activemq, clock):
    publisher, consumer = make_bus(activemq), make_bus(activemq)
    inbox = Inbox()
    consumer.subscribe("balance.*", inbox)
    async with running(publisher, consumer):
        events = [Event("balance.changed", clock.now(), {"n": n}, contract_id=n)
                  for n in range(50)]
        await publisher.publish_many(events)  # fires on the broker's one receipt
        await wait_until(lambda: len(inbox.events) == len(events))
        assert inbox.events == events


@pytest_twisted.ensureDeferred
async def test_a_broker_error_fails_the_events_not_yet_receipted(activemq, clock):
    bus = make_bus(activemq)
    async with running(bus):
        connection = bus._connection
        # a frame the broker refuses (no such transaction), then a batch behind it
        bus._in_writer(connection.send, "/topic/bgbilling.test", "{}",
                       headers={"transaction": "no-such-transaction"})
        with pytest.raises(BrokerUnavailable, match="broker error"):
            await bus.publish_many([Event("balance.changed", clock.now(), {})])


@pytest_twisted.ensureDeferred
async def test_the_broker_keeps_a_process_own_events_from_its_others_only_subscriptions(
        activemq, clock):
    here, there = make_bus(activemq), make_bus(activemq)
    everything, others_here, others_there = Inbox(), Inbox(), Inbox()
    here.subscribe("contract.*", everything)
    here.subscribe("contract.*", others_here, others_only=True)
    there.subscribe("contract.*", others_there, others_only=True)
    async with running(here, there):
        own = Event("contract.changed", clock.now(), {"n": 1}, contract_id=1)
        found = Event("contract.changed", clock.now(), {"n": 2}, contract_id=2)
        await here.publish_many([own], own=True)
        await here.publish_many([found])
        await wait_until(lambda: len(everything.events) == 2 and len(others_there.events) == 2
                         and len(others_here.events) == 1)
        assert others_here.events == [found]
        assert everything.events == others_there.events == [own, found]


@pytest_twisted.ensureDeferred
async def test_durable_subscription_keeps_events_while_the_consumer_is_away(activemq, clock):
    publisher = make_bus(activemq)
    publisher.startService()
    first = make_bus(activemq, client_id="crm-test")
    inbox = Inbox()
    first.subscribe(">", inbox, durable="crm")
    first.startService()
    await wait_until(lambda: publisher.connected and first.connected)
    await first.stopService()
    sent = [Event("contract.created", clock.now(), {"n": n}) for n in range(5)]
    for event in sent:
        await publisher.publish(event)
    again = make_bus(activemq, client_id="crm-test")
    again.subscribe(">", inbox, durable="crm")
    again.startService()
    try:
        await wait_until(lambda: len(inbox.events) >= 5)
        assert [e.id for e in inbox.events] == [e.id for e in sent]
    finally:
        await again.stopService()
        await publisher.stopService()


@pytest_twisted.ensureDeferred
async def test_publish_fails_cleanly_without_a_broker(clock):
    from bgserver.events.bus import BrokerUnavailable
    from tests.support.services import free_port
    bus = StompBus(reactor, "127.0.0.1", free_port(), max_retry_delay=0.2)
    bus.startService()
    try:
        with pytest.raises(BrokerUnavailable):
            await bus.publish(Event("t.x", clock.now(), {}))
        assert bus.status()["connected"] is False
    finally:
        await bus.stopService()


@pytest_twisted.ensureDeferred
async def test_no_event_is_lost_while_the_broker_is_down(database, clock, own_activemq):
    broker = own_activemq
    publisher = make_bus(broker)
    consumer = make_bus(broker, client_id="provisioning-test")
    inbox = Inbox()
    consumer.subscribe(">", inbox, durable="provisioning")
    relay = OutboxRelay(database, publisher, clock, "relay-test", interval=0.2)
    for service in (publisher, consumer, relay):
        service.startService()
    try:
        await wait_until(lambda: publisher.connected and consumer.connected)
        before = await database.run("emit", emit, "contract.created", {"n": -1},
                                    occurred_at=clock.now())
        await wait_until(lambda: before.id in inbox.ids())

        broker.stop()
        await wait_until(lambda: not publisher.connected and not consumer.connected)
        committed = [await database.run("emit", emit, "payment.created", {"n": n},
                                        occurred_at=clock.now()) for n in range(30)]
        assert await database.run("pending", pending_count) == 30

        broker.start()

        async def all_delivered():
            return ({e.id for e in committed} <= inbox.ids()
                    and await database.run("pending", pending_count) == 0)
        await wait_until(all_delivered, timeout=60)
        assert len(inbox.ids()) == 31
    finally:
        relay.stopService()
        await publisher.stopService()
        await consumer.stopService()
