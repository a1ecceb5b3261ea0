"""What was read from the database a moment ago, for the requests that follow.

A busy client asks for the same things over and over (who it is, the same contract cards);
remembering them for a while spares the database and, in one CPython process, the time
the answers take to parse. Whoever changes something forgets it here: at once in the
process that changed it, through an event in the others, and in any case after
``seconds``.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Generic, Hashable, Iterable, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Recent(Generic[K, V]):
    def __init__(self, reactor: Any, seconds: float, size: int = 10_000):
        self.reactor = reactor
        self.seconds = seconds
        self.size = size
        self._values: OrderedDict[K, tuple[float, V]] = OrderedDict()
        #: Counts forgetting: a look-up that began before some is not remembered, since
        #: it may have read what was just forgotten.
        self.generation = 0

    def get(self, key: K) -> V | None:
        found = self._values.get(key)
        if found is None or found[0] <= self.reactor.seconds():
            return None
        return found[1]

    def put(self, key: K, value: V, generation: int) -> None:
        """Remember ``value``, read by a look-up that began at ``generation``."""
        if self.seconds <= 0 or generation != self.generation:
            return
        self._values[key] = (self.reactor.seconds() + self.seconds, value)
        self._values.move_to_end(key)
        while len(self._values) > self.size:
            self._values.popitem(last=False)

    def replace(self, key: K, value: V) -> None:
        """Change a remembered value, keeping its time (nothing was read again)."""
        found = self._values.get(key)
        if found is not None:
            self._values[key] = (found[0], value)

    def forget(self, keys: Iterable[K]) -> None:
        self.generation += 1
        for key in keys:
            self._values.pop(key, None)

    def clear(self) -> None:
        self.generation += 1
        self._values.clear()
