"""Group commit: requests that arrive while a unit of work runs go into the next one, each
still gets its own answer; and the caller cache's shared look-ups."""

from __future__ import annotations

from twisted.internet.defer import Deferred
from twisted.internet.task import Clock

from bgserver.billing.access import Caller
from bgserver.billing.auth import CallerCache
from bgserver.storage.batching import Batcher


class Units:
    """A stand-in for the database: each unit waits until the test finishes it."""

    def __init__(self):
        self.started: list[tuple[list, Deferred]] = []

    def run(self, items):
        done: Deferred = Deferred()
        self.started.append((items, done))
        return done


def answers(deferreds):
    got = []
    for d in deferreds:
        d.addBoth(got.append)
    return got


def test_a_quiet_batcher_runs_each_request_at_once():
    units = Units()
    batcher = Batcher(units.run)
    first = answers([batcher.submit("a")])
    assert [items for items, _ in units.started] == [["a"]]
    units.started[0][1].callback(["A"])
    assert first == ["A"]
    answers([batcher.submit("b")])
    assert [items for items, _ in units.started] == [["a"], ["b"]]


def test_requests_that_wait_go_together_and_each_gets_its_own_outcome():
    units = Units()
    batcher = Batcher(units.run)
    got = answers([batcher.submit(n) for n in range(5)])
    assert [items for items, _ in units.started] == [[0]]  # the rest wait for it
    units.started[0][1].callback(["zero"])
    assert [items for items, _ in units.started] == [[0], [1, 2, 3, 4]]
    units.started[1][1].callback(["one", ValueError("two is bad"), "three", "four"])
    assert got[0] == "zero" and got[1] == "one" and got[3:] == ["three", "four"]
    assert got[2].check(ValueError) and str(got[2].value) == "two is bad"


def test_a_failed_unit_fails_all_of_its_requests_and_the_next_unit_still_runs():
    units = Units()
    batcher = Batcher(units.run)
    got = answers([batcher.submit(n) for n in range(3)])
    units.started[0][1].errback(ConnectionError("database away"))
    assert got[0].check(ConnectionError)
    units.started[1][1].callback(["one", "two"])
    assert got[1:] == ["one", "two"] and batcher.in_flight == 0


def test_a_unit_answering_the_wrong_number_of_outcomes_fails_rather_than_mismatches():
    units = Units()
    batcher = Batcher(units.run)
    got = answers([batcher.submit(n) for n in range(3)])
    units.started[0][1].callback(["zero"])
    units.started[1][1].callback(["only one"])
    assert got[0] == "zero" and all(g.check(RuntimeError) for g in got[1:])


def test_items_sharing_a_mark_never_share_a_unit():
    units = Units()
    batcher = Batcher(units.run, marks=lambda item: [item])
    answers([batcher.submit(i) for i in ("k1", "k2", "k1", "k3", "k1")])
    units.started[0][1].callback(["x"])
    assert units.started[1][0] == ["k2", "k1", "k3"]
    units.started[1][1].callback(["x", "x", "x"])
    assert units.started[2][0] == ["k1"]


def test_units_are_capped_in_size_and_in_number():
    units = Units()
    batcher = Batcher(units.run, max_size=2, max_in_flight=2)
    answers([batcher.submit(n) for n in range(6)])
    assert [items for items, _ in units.started] == [[0], [1]]
    units.started[0][1].callback(["x"])
    assert units.started[2][0] == [2, 3]


CALLER = Caller("api_key", 1, "crm", frozenset({"contract.read"}))


def test_callers_missing_together_share_one_look_up_and_are_remembered():
    clock = Clock()
    cache = CallerCache(clock, seconds=5)
    lookups: list[Deferred] = []

    async def lookup():
        d: Deferred = Deferred()
        lookups.append(d)
        return await d

    got = answers([cache.load("bgk_token", lookup) for _ in range(10)])
    assert len(lookups) == 1
    lookups[0].callback(CALLER)
    assert got == [CALLER] * 10
    assert cache.get("bgk_token") == CALLER
    clock.advance(5)
    assert cache.get("bgk_token") is None


def test_a_look_up_that_began_before_a_revocation_is_not_remembered():
    cache = CallerCache(Clock(), seconds=5)
    pending: Deferred = Deferred()

    async def lookup():
        return await pending

    got = answers([cache.load("bgs_token", lookup)])
    cache.clear()  # e.g. the session was revoked meanwhile
    pending.callback(CALLER)
    assert got == [CALLER]  # that request began before: it is answered
    assert cache.get("bgs_token") is None  # but nobody after it is
