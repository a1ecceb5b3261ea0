"""Remembered reads: they expire, they are forgotten, and a read that raced a change is
not remembered."""

from __future__ import annotations

from twisted.internet.task import Clock

from bgserver.billing.recent import Recent


def test_a_value_is_remembered_for_its_seconds_only():
    clock = Clock()
    recent = Recent(clock, seconds=1.0)
    recent.put(7, "card", recent.generation)
    clock.advance(0.999)
    assert recent.get(7) == "card"
    clock.advance(0.001)
    assert recent.get(7) is None


def test_forgetting_drops_those_keys_only():
    recent = Recent(Clock(), seconds=1.0)
    for key in (1, 2, 3):
        recent.put(key, f"card {key}", recent.generation)
    recent.forget([2, 99])
    assert [recent.get(k) for k in (1, 2, 3)] == ["card 1", None, "card 3"]
    recent.clear()
    assert [recent.get(k) for k in (1, 2, 3)] == [None, None, None]


def test_a_read_that_began_before_a_change_is_not_remembered():
    recent = Recent(Clock(), seconds=1.0)
    began = recent.generation
    recent.forget([5])  # a change committed while the read was in the database
    recent.put(5, "maybe the card from before the change", began)
    assert recent.get(5) is None
    recent.put(5, "card", recent.generation)
    assert recent.get(5) == "card"


def test_the_oldest_go_when_it_is_full():
    recent = Recent(Clock(), seconds=1.0, size=2)
    for key in (1, 2, 3):
        recent.put(key, key, recent.generation)
    assert [recent.get(k) for k in (1, 2, 3)] == [None, 2, 3]


def test_replacing_keeps_the_time_and_zero_seconds_remembers_nothing():
    clock = Clock()
    recent = Recent(clock, seconds=1.0)
    recent.put(1, "a", recent.generation)
    clock.advance(0.5)
    recent.replace(1, "b")
    recent.replace(2, "not there")
    assert (recent.get(1), recent.get(2)) == ("b", None)
    clock.advance(0.5)
    assert recent.get(1) is None
    never = Recent(clock, seconds=0)
    never.put(1, "a", never.generation)
    assert never.get(1) is None
