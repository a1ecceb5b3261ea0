"""Group commit: requests that arrive while the database is busy go into one unit of work.

Each unit of work costs round trips (check-out, lock, commit) whatever it carries, and in
one CPython process those round trips, not the rows, are what limits a busy server. A
:class:`Batcher` runs a request at once when fewer than ``max_in_flight`` units are
running, and otherwise lets requests gather until one finishes; the next unit takes them
all. A quiet server so answers each request in one unit of its own, and a busy one makes
fewer, larger units instead of a queue. There is no timer: nobody waits for a batch to
fill.

Each request still gets its own answer: ``run(items)`` returns one outcome per item, a
result or an exception, in order.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Awaitable, Callable, Generic, Hashable, Iterable, TypeVar

from twisted.internet.defer import Deferred, ensureDeferred
from twisted.python.failure import Failure

T = TypeVar("T")
R = TypeVar("R")


class Batcher(Generic[T, R]):
    def __init__(self, run: Callable[[list[T]], Awaitable[list[R | BaseException]]], *,
                 max_size: int = 100, max_in_flight: int = 1,
                 marks: Callable[[T], Iterable[Hashable]] | None = None):
        """``marks``: what two items of one unit must not share (an idempotency key, an
        external id); the later item waits for the next unit, where it sees the first."""
        self.run = run
        self.max_size = max_size
        self.max_in_flight = max_in_flight
        self.marks = marks
        self.in_flight = 0
        self._queue: deque[tuple[T, Deferred]] = deque()

    def submit(self, item: T) -> "Deferred[R]":
        answer: Deferred = Deferred()
        self._queue.append((item, answer))
        self._start()
        return answer

    def _start(self) -> None:
        while self._queue and self.in_flight < self.max_in_flight:
            self.in_flight += 1
            ensureDeferred(self._run(self._take()))

    def _take(self) -> list[tuple[T, Deferred]]:
        batch: list[tuple[T, Deferred]] = []
        later: list[tuple[T, Deferred]] = []
        taken: set[Hashable] = set()
        while self._queue and len(batch) < self.max_size:
            entry = self._queue.popleft()
            marks = set(self.marks(entry[0])) if self.marks else set()
            if marks & taken:
                later.append(entry)
                continue
            taken |= marks
            batch.append(entry)
        self._queue.extendleft(reversed(later))
        return batch

    async def _run(self, batch: list[tuple[T, Deferred]]) -> None:
        try:
            outcomes: list[Any] = await self.run([item for item, _ in batch])
            if len(outcomes) != len(batch):
                raise RuntimeError(f"{len(outcomes)} outcomes for {len(batch)} items")
        except Exception as exc:  # the whole unit failed: every item shares its fate
            outcomes = [exc] * len(batch)
        finally:
            self.in_flight -= 1
        for (_, answer), outcome in zip(batch, outcomes):
            if isinstance(outcome, BaseException):
                answer.errback(Failure(outcome))
            else:
                answer.callback(outcome)
        self._start()
