"""What a loader format is, and what the kernel lends the module types' formats: the
batch they store in, the contract holding a login on a day, the tariff of a day, the
booking of usage.

A format (a module type's, registered as its ``loader_formats``) cuts a file into records
(:meth:`LoaderFormat.records`, in a worker thread), reads one record
(:meth:`LoaderFormat.parse`, raising :class:`Malformed`), and stores a batch of read
records in one transaction (:meth:`LoaderFormat.store`): each record is stored, a
duplicate of one stored before, or quarantined with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from fractions import Fraction
from decimal import Decimal
from typing import Any, BinaryIO, Iterator, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import Table, select
from sqlalchemy.engine import Connection

from bgserver.billing import movements, visibility
from bgserver.billing.access import Caller, system_caller
from bgserver.storage import tariffs as tariff_store

LOADER = system_caller("loader")
#: Outcomes of one record besides a quarantine reason.
STORED = "stored"
DUPLICATE = "duplicate"
#: Nothing to store (a blank line).
SKIPPED = "skipped"


class Malformed(ValueError):
    """A record that cannot be read; the message says why."""


@dataclass(frozen=True)
class RawRecord:
    #: The record's first line in the file, from 1.
    line: int
    text: str
    #: The byte offset just after it, and how many lines it took.
    end: int = 0
    lines: int = 1


@dataclass(frozen=True)
class SourceInfo:
    id: int
    name: str
    format: str
    module_id: int
    zone: ZoneInfo


class LoaderFormat(Protocol):
    name: str
    module_type: str

    def records(self, stream: BinaryIO, offset: int, line: int) -> Iterator[RawRecord]: ...

    def parse(self, record: RawRecord, source: SourceInfo) -> Any: ...

    def store(self, batch: "Batch", items: list[Any]) -> list[str]: ...

    def rerate(self, batch: "Batch", since: date, until: date,
               contract_id: int | None) -> int: ...


@dataclass
class Batch:
    """One unit of work of the loader: its connection, the source, the time, and what it
    looked up already."""
    conn: Connection
    module_id: int
    zone: ZoneInfo  # the billing time zone: days are cut here
    today: date
    now: datetime
    closed_through: date | None
    caller: Caller = LOADER
    _tariffs: dict[tuple[int, date], Any] = field(default_factory=dict)

    def day_of(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def tariff(self, contract_id: int, day: date, model: type) -> Any | None:
        """The module's part of the contract's tariff on ``day`` (a ``model``), or None."""
        key = (contract_id, day)
        if key not in self._tariffs:
            period = tariff_store.in_force(self.conn, contract_id, day)
            config = (None if period is None else
                      tariff_store.module_config(self.conn, period.tariff_id, self.module_id))
            self._tariffs[key] = None if config is None else model.model_validate(config)
        return self._tariffs[key]

    def closed(self, day: date) -> bool:
        return self.closed_through is not None and day.replace(day=1) <= self.closed_through

    def lock(self, contract_ids: set[int]) -> dict[int, Any]:
        """The contracts' money rows, locked in id order for booking."""
        ids = sorted(contract_ids)
        rows = visibility.contracts(self.conn, [(self.caller, i) for i in ids], lock=True)
        return {i: r for i, r in zip(ids, rows) if r is not None}

    def set_usage(self, contracts: dict[int, Any],
                  totals: dict[tuple[int, int, date], Decimal]) -> None:
        """``(contract, service, day) -> amount``: the module's usage of those days."""
        movements.set_usage(self.conn, self.caller, [
            movements.UsageTotal(contracts[c], self.module_id, s, d, amount)
            for (c, s, d), amount in sorted(totals.items())], self.today, self.now)


def holders(conn: Connection, table: Table, module_id: int,
            wanted: set[tuple[str, date]]) -> dict[tuple[str, date], int]:
    """``(login, day) -> contract id`` of whoever held the login on that day."""
    logins = sorted({login for login, _ in wanted})
    periods: dict[str, list[tuple[date, date | None, int]]] = {}
    for start in range(0, len(logins), 500):
        for row in conn.execute(select(table.c.login, table.c.date_from, table.c.date_to,
                                       table.c.contract_id).where(
                table.c.module_id == module_id, table.c.login.in_(logins[start:start + 500]))):
            periods.setdefault(row.login, []).append((row.date_from, row.date_to,
                                                      row.contract_id))
    found = {}
    for login, day in wanted:
        for date_from, date_to, contract_id in periods.get(login, ()):
            if date_from <= day and (date_to is None or day <= date_to):
                found[(login, day)] = contract_id
    return found


def round_exact(value: Fraction) -> Decimal:
    """An exact non-negative amount rounded once to kopecks, ROUND_HALF_UP."""
    if value < 0:
        return -round_exact(-value)
    kopecks = (value.numerator * 200 + value.denominator) // (2 * value.denominator)
    return Decimal(kopecks).scaleb(-2)


def lines_of(stream: BinaryIO, offset: int, line: int) -> Iterator[tuple[int, bytes, int]]:
    """``(line number, raw line, offset after it)`` from ``offset`` on."""
    stream.seek(offset)
    position = offset
    for raw in stream:
        position += len(raw)
        line += 1
        yield line, raw, position
