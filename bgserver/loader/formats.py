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
from functools import lru_cache
from decimal import Decimal
from typing import Any, BinaryIO, Iterator, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import Table, select
from sqlalchemy.engine import Connection

from bgserver.billing import movements, visibility
from bgserver.billing.access import Caller, system_caller
from bgserver.storage import tariffs as tariff_store
from bgshared import wire

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
    _periods: dict[int, list[tuple[date, date | None, int]]] = field(default_factory=dict)
    _configs: dict[int, str | None] = field(default_factory=dict)
    _tariffs: dict[tuple[int, date], Any] = field(default_factory=dict)

    def day_of(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def know_tariffs(self, contract_ids: set[int]) -> None:
        """Read the tariff periods of these contracts, and the configs of their plans, in
        a few statements for the whole batch (instead of two for each contract and day)."""
        wanted = [i for i in contract_ids if i not in self._periods]
        if not wanted:
            return
        self._periods.update(tariff_store.periods_of(self.conn, wanted))
        plans = {t for i in wanted for _, _, t in self._periods[i]} - set(self._configs)
        configs = tariff_store.module_configs(self.conn, sorted(plans), self.module_id)
        self._configs.update({t: configs.get(t) for t in plans})

    def tariff(self, contract_id: int, day: date, model: type) -> Any | None:
        """The module's part of the contract's tariff on ``day`` (a ``model``), or None."""
        key = (contract_id, day)
        if key not in self._tariffs:
            self.know_tariffs({contract_id})
            plan = next((t for start, end, t in self._periods[contract_id]
                         if start <= day and (end is None or day <= end)), None)
            config = None if plan is None else self._configs[plan]
            self._tariffs[key] = None if config is None else _config(model, config)
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
        movements.set_usage(self.conn, self.caller, self._usage(contracts, totals),
                            self.today, self.now)

    def add_usage(self, contracts: dict[int, Any],
                  added: dict[tuple[int, int, date], Decimal]) -> None:
        """``(contract, service, day) -> amount`` more on those days (the batch's new
        records), one change of each day's row for the whole batch."""
        movements.add_usage(self.conn, self.caller, self._usage(contracts, added),
                            self.today, self.now)

    def _usage(self, contracts: dict[int, Any], amounts: dict[tuple[int, int, date], Decimal]
               ) -> list[movements.UsageTotal]:
        return [movements.UsageTotal(contracts[c], self.module_id, s, d, amount)
                for (c, s, d), amount in sorted(amounts.items())]


@lru_cache(maxsize=256)
def _config(model: type, text: str) -> Any:
    """A plan's config read into its model once per content (a changed plan is new text;
    the models are not changed by their users)."""
    return model.model_validate(wire.loads(text))


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
