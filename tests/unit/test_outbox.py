"""The relay delivers every committed event at least once, even when the bus fails."""

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.defer import fail, succeed

from bgserver.events import Event, type_matches
from bgserver.events.bus import BrokerUnavailable, EventBus
from bgserver.events.local import LocalBus
from bgserver.events.outbox import FRESH_CLAIM_SECONDS, OutboxRelay, emit, pending_count
from bgserver.storage.database import DatabaseUnavailable
from tests.support.spies import count_units
from tests.support.waiting import wait_until


class FlakyBus(EventBus):
    """A bus that refuses everything while ``down`` and records what it took."""

    def __init__(self):
        super().__init__()
        self.down = False
        self.taken: list[Event] = []
        self.refused = 0

    def publish_many(self, events, own=False):
        if self.down:
            self.refused += len(events)
            return fail(BrokerUnavailable("down"))
        self.taken.extend(events)
        return succeed(None)

    def status(self):
        return {"broker": "flaky", "connected": not self.down}


def test_event_json_round_trip(clock):
    event = Event("payment.created", clock.now(), {"amount": "10.00"}, contract_id=7)
    again = Event.from_json(event.to_json())
    assert again == event
    assert event.topic == "/topic/bgbilling.payment.created"


@pytest.mark.parametrize("pattern, event_type, matches", [
    (">", "payment.created", True), ("payment.*", "payment.created", True),
    ("payment.*", "payment.created.late", False), ("payment.>", "payment.created.late", True),
    ("payment.created", "payment.deleted", False), ("*", "payment.created", False),
])
def test_type_patterns_follow_broker_wildcards(pattern, event_type, matches):
    assert type_matches(pattern, event_type) is matches


@pytest_twisted.ensureDeferred
async def test_relay_delivers_everything_once_the_bus_is_back(sqlite_database, clock):
    bus = FlakyBus()
    bus.down = True
    relay = OutboxRelay(sqlite_database, bus, clock, "relay-1", interval=0.05, batch=7)
    relay.startService()
    try:
        for n in range(20):
            await sqlite_database.run("emit", emit, "t.x", {"n": n}, occurred_at=clock.now())
        await wait_until(lambda: bus.refused >= 40)  # each event tried at least twice
        assert bus.taken == []
        assert await sqlite_database.run("count", pending_count) == 20
        bus.down = False

        async def all_published():
            return await sqlite_database.run("count", pending_count) == 0
        await wait_until(all_published)
        assert sorted(e.data["n"] for e in bus.taken) == list(range(20))
        assert len({e.id for e in bus.taken}) == 20
    finally:
        relay.stopService()


@pytest_twisted.ensureDeferred
async def test_relay_publishes_right_after_commit(sqlite_database, clock):
    bus = LocalBus(reactor)
    got = []
    bus.subscribe("contract.*", got.append)
    relay = OutboxRelay(sqlite_database, bus, clock, "relay-1", interval=3600)
    relay.startService()
    try:
        await wait_until(lambda: not relay._running)  # the first pass at start found nothing
        await sqlite_database.run("emit", emit, "contract.created", {"id": 1},
                                  occurred_at=clock.now(), contract_id=1)
        await wait_until(lambda: len(got) == 1, timeout=2)
        assert got[0].type == "contract.created" and got[0].contract_id == 1
    finally:
        relay.stopService()


@pytest_twisted.ensureDeferred
async def test_local_bus_drops_duplicate_deliveries(clock):
    bus = LocalBus(reactor)
    got = []
    bus.subscribe(">", got.append)
    event, last = Event("t.x", clock.now(), {}), Event("t.last", clock.now(), {})
    await bus.publish(event)
    await bus.publish(event)
    await bus.publish(last)  # delivered in order: the duplicate would have come before it
    await wait_until(lambda: last in got, timeout=2)
    assert got == [event, last]


@pytest_twisted.ensureDeferred
async def test_a_subscription_for_others_events_skips_those_of_its_own_commits(clock):
    bus = LocalBus(reactor)
    everything, others = [], []
    bus.subscribe(">", everything.append)
    bus.subscribe(">", others.append, others_only=True)
    own, elsewhere = Event("t.own", clock.now(), {}), Event("t.elsewhere", clock.now(), {})
    await bus.publish_many([own], own=True)  # what the relay sends from memory
    await bus.publish_many([elsewhere])      # what a poll found (the command line's...)
    await wait_until(lambda: elsewhere in others, timeout=2)  # own came before it, if at all
    assert (everything, others) == ([own, elsewhere], [elsewhere])


@pytest_twisted.ensureDeferred
async def test_relay_backs_off_while_the_database_is_away(sqlite_database, clock):
    calls = []

    def unavailable(*args, **kwargs):
        calls.append(reactor.seconds())
        return fail(DatabaseUnavailable("down"))

    relay = OutboxRelay(sqlite_database, FlakyBus(), clock, "relay-1", interval=0.05)
    real_run = sqlite_database.run
    sqlite_database.run = unavailable
    relay.startService()
    try:
        await wait_until(lambda: len(calls) >= 4, timeout=10)
        # polled every 0.05 s, but after each failure it waits 0.1, 0.2, 0.4 s...
        gaps = [b - a for a, b in zip(calls, calls[1:4])]
        assert gaps[0] >= 0.1 and gaps[1] >= 0.2 and gaps[2] >= 0.4, gaps
        sqlite_database.run = real_run
        await sqlite_database.run("emit", emit, "t.x", {}, occurred_at=clock.now())
        await wait_until(lambda: relay._failures == 0, timeout=5)
    finally:
        sqlite_database.run = real_run
        relay.stopService()


@pytest_twisted.ensureDeferred
async def test_events_of_commits_that_came_together_are_published_at_once_together(
        sqlite_database, clock, monkeypatch):
    bus = FlakyBus()
    relay = OutboxRelay(sqlite_database, bus, clock, "relay-1", interval=3600, settle=0.5)
    relay.startService()
    try:
        await wait_until(lambda: not relay._running, timeout=2)  # the poll at start is over
        run = sqlite_database.run
        units = count_units(sqlite_database, monkeypatch)
        for n in range(5):  # five commits, each handing its event to the relay
            await run("emit", emit, "contract.created", {"n": n}, occurred_at=clock.now())
        await wait_until(lambda: len(bus.taken) == 5, timeout=2)
        await wait_until(lambda: "outbox_published" in units, timeout=2)
        # published from memory: no poll read them back, one unit marked them all
        assert units == ["outbox_published"]
        assert await run("pending", pending_count) == 0
    finally:
        relay.stopService()


@pytest_twisted.ensureDeferred
async def test_events_the_bus_refused_from_memory_are_published_by_a_later_poll(
        sqlite_database, clock):
    bus = FlakyBus()
    bus.down = True
    relay = OutboxRelay(sqlite_database, bus, clock, "relay-1", interval=0.05, settle=0.01)
    relay.startService()
    try:
        await sqlite_database.run("emit", emit, "contract.created", {"n": 1},
                                  occurred_at=clock.now())
        await wait_until(lambda: bus.refused >= 2)  # from memory, then by a poll
        assert bus.taken == [] and await sqlite_database.run("pending", pending_count) == 1
        bus.down = False
        await wait_until(lambda: len(bus.taken) == 1, timeout=2)

        async def none_pending():  # the poll marks it published after the bus took it
            return await sqlite_database.run("pending", pending_count) == 0
        await wait_until(none_pending, timeout=2)
        assert [e.data for e in bus.taken] == [{"n": 1}]
    finally:
        relay.stopService()


@pytest_twisted.ensureDeferred
async def test_events_of_a_relay_that_stopped_before_publishing_go_out_by_another_poll(
        sqlite_database, clock, fake_reactor, monkeypatch):
    gone = OutboxRelay(sqlite_database, FlakyBus(), clock, "relay-gone", interval=3600,
                       settle=3600)  # it will never get round to publishing
    gone.startService()
    await sqlite_database.run("emit", emit, "contract.created", {"n": 1},
                              occurred_at=clock.now())
    gone.stopService()
    bus = FlakyBus()
    units = count_units(sqlite_database, monkeypatch)
    other = OutboxRelay(sqlite_database, bus, clock, "relay-other", interval=0.05)
    other.startService()
    try:
        await wait_until(lambda: units.count("outbox_claim") >= 3, timeout=2)  # polled
        assert bus.taken == []  # still claimed by the relay that went away
        fake_reactor.advance(FRESH_CLAIM_SECONDS + 1)
        await wait_until(lambda: len(bus.taken) == 1, timeout=2)
    finally:
        other.stopService()
