"""The daily run of periodic fees: one day for one instance for all its contracts.

Contracts go in batches by id (``BATCH`` a unit of work), so memory stays the same however
many there are: each batch is read in a few statements (tariff and status periods, the keys
charged), priced by :mod:`bgserver.modules.npay.fees`, and booked through
:func:`bgserver.billing.movements.record` (the ledger, the limit, audit and events) together
with its ``npay_charge`` keys. The keys make a second run of a day charge nothing: a batch
skips what is charged, and a key inserted meanwhile by a concurrent run fails the batch,
which is then read and priced again.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Awaitable, Callable, NamedTuple

from sqlalchemy.exc import IntegrityError

from bgserver.billing import movements, visibility
from bgserver.billing.access import system_caller
from bgserver.billing.errors import Invalid, NotFound
from bgserver.modules.npay import fees, store
from bgserver.modules.npay.config import Fee, NpayInstance, NpayTariff
from bgserver.storage import money as money_store
from bgserver.storage.money import month_of
from bgshared.money import ZERO

#: Who books the fees (audit, charges' authors).
NPAY = system_caller("npay")
#: Contracts per unit of work.
BATCH = 1000
#: A batch that keeps meeting keys of a concurrent run gives up after this many tries.
ATTEMPTS = 5


@dataclass(frozen=True)
class Plan:
    """An instance's settings and its tariff plans' fees, read once per run."""
    module_id: int
    config: NpayInstance
    #: tariff id -> service id -> fee
    fees: dict[int, dict[int, Fee]]
    #: The services some plan charges in advance.
    advance_services: frozenset[int]


def load_plan(conn, module_id: int) -> Plan:
    row = store.instance(conn, module_id)
    if row is None or row.type != "npay":
        raise NotFound("no such periodic fees module instance", {"module_id": module_id})
    by_tariff = {tariff_id: {fee.service_id: fee
                             for fee in NpayTariff.model_validate_json(config).fees}
                 for tariff_id, config in store.tariff_configs(conn, module_id)}
    advance = frozenset(s for by_service in by_tariff.values()
                        for s, fee in by_service.items() if fee.mode == "advance")
    return Plan(module_id, NpayInstance.model_validate_json(row.config), by_tariff, advance)


def _in_force(periods: list[Any], day: date):
    """The period covering ``day``; of two, the later one."""
    best = None
    for p in periods:
        if p.date_from <= day and (p.date_to is None or p.date_to >= day) \
                and (best is None or (p.date_from, p.id) > (best.date_from, best.id)):
            best = p
    return best


@dataclass
class Facts:
    """What a batch's contracts need priced for one day."""
    dates: dict[int, Any] = field(default_factory=dict)
    tariffs: dict[int, list[Any]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[int, list[Any]] = field(default_factory=lambda: defaultdict(list))


def read_facts(conn, ids: list[int], day: date) -> Facts:
    facts = Facts()
    month = month_of(day)
    facts.dates = {row.id: row for row in store.contract_dates(conn, ids)}
    for row in store.tariff_periods(conn, ids, month, day):
        facts.tariffs[row.contract_id].append(row)
    for row in store.status_periods(conn, ids, day, day):
        facts.statuses[row.contract_id].append(row)
    return facts


def read_charged(conn, plan: Plan, ids: list[int], day: date) -> dict[int, dict[int, list]]:
    """contract -> service -> [(day, kind)] charged this month (see :func:`store.charged`)."""
    charged: dict[int, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    for row in store.charged(conn, plan.module_id, ids, day, month_of(day),
                             plan.advance_services):
        charged[row.contract_id][row.service_id].append((row.day, row.kind))
    return {contract_id: {service_id: sorted(rows) for service_id, rows in services.items()}
            for contract_id, services in charged.items()}


class Charge(NamedTuple):
    """A fee (positive) or a refund (negative) to book for a service."""
    service_id: int
    kind: str
    amount: Decimal
    comment: str


def price(plan: Plan, day: date, facts: Facts,
          charged: dict[int, dict[int, list]]) -> dict[int, list[Charge]]:
    """contract -> the charges ``day`` calls for and that are not booked yet."""
    days = calendar.monthrange(day.year, day.month)[1]
    out: dict[int, list[Charge]] = {}
    for contract_id, dates in facts.dates.items():
        periods = facts.tariffs.get(contract_id, [])

        def fees_on(some_day: date) -> dict[int, Fee]:
            period = _in_force(periods, some_day)
            return plan.fees.get(period.tariff_id, {}) if period is not None else {}

        today_fees = fees_on(day)
        status = _in_force(facts.statuses.get(contract_id, []), day)
        status, reason = (status.status, status.reason) if status is not None else (None, None)
        in_contract = dates.date_from <= day and (dates.date_to is None
                                                  or dates.date_to >= day)
        mine = charged.get(contract_id, {})
        wanted: list[Charge] = []
        advance_services = {s for s, fee in today_fees.items() if fee.mode == "advance"}
        for service_id, fee in today_fees.items():
            if fee.mode != "daily" or (day, "fee") in mine.get(service_id, ()):
                continue
            for move in fees.daily(fee, fees.standing(fee, in_contract, status, reason), day,
                                   days):
                wanted.append(Charge(service_id, move.kind, move.amount,
                                     f"daily fee, day {day.day} of {days}"))
        for service_id in sorted(advance_services | {s for s in mine
                                                     if s in plan.advance_services}):
            rows = mine.get(service_id, [])
            if any(row_day == day for row_day, _ in rows):
                continue  # this day is done for the service
            held = None
            if rows:
                last_day, last_kind = max(rows, key=lambda r: (r[0], r[1] == "fee"))
                held_fee = fees_on(last_day).get(service_id) if last_kind == "fee" else None
                if held_fee is not None and held_fee.mode == "advance":
                    held = held_fee.amount
            fee = today_fees.get(service_id) if service_id in advance_services else None
            standing = (fees.Standing.NONE if fee is None else
                        fees.standing(fee, in_contract, status, reason))
            span = f"{day:%Y-%m}, days {day.day}-{days}"
            for move in fees.advance(held, fee.amount if fee else None, standing, day, days):
                wanted.append(Charge(service_id, move.kind, move.amount,
                                     f"advance fee {span}" if move.kind == "fee" else
                                     f"advance fee given back, {span}"))
        if wanted:
            out[contract_id] = wanted
    return out


@dataclass
class Tally:
    """What a run booked."""
    contracts: int = 0
    fees: int = 0
    refunds: int = 0
    charged: Decimal = ZERO
    refunded: Decimal = ZERO

    def add(self, other: "Tally") -> None:
        for name in ("contracts", "fees", "refunds", "charged", "refunded"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def charge_batch(conn, plan: Plan, day: date, after: int, limit: int, today: date,
                 now) -> tuple[int | None, Tally | None]:
    """Charge ``day`` for the next ``limit`` contracts after id ``after``: -> (the last
    contract id seen, None at the end; what was booked, None if the month is closed)."""
    if money_store.is_closed(conn, month_of(day)):
        return None, None
    ids = store.next_contracts(conn, sorted(plan.fees), after, month_of(day), day, limit)
    if not ids:
        return None, Tally()
    facts = read_facts(conn, ids, day)
    charged = read_charged(conn, plan, ids, day)
    due = price(plan, day, facts, charged)
    tally = Tally()
    if due:
        # lock the contracts to charge, then price them again with the keys as they are now
        chosen = sorted(due)
        locked = dict(zip(chosen, visibility.contracts(conn, [(NPAY, i) for i in chosen],
                                                       lock=True)))
        now_charged = read_charged(conn, plan, chosen, day)
        if now_charged != {i: charged[i] for i in chosen if i in charged}:
            due = price(plan, day, Facts({i: facts.dates[i] for i in chosen}, facts.tariffs,
                                         facts.statuses), now_charged)
        items, keys = [], []
        for contract_id, charges in sorted(due.items()):
            tally.contracts += 1
            for c in charges:
                refund = c.kind == "refund"
                items.append(movements.NewMovement(NPAY, locked[contract_id], {
                    "amount": c.amount, "date": day,
                    "type_id": plan.config.refund_type_id if refund else
                    plan.config.charge_type_id,
                    "module_id": plan.module_id, "service_id": c.service_id,
                    "comment": c.comment}))
                keys.append({"module_id": plan.module_id, "contract_id": contract_id,
                             "service_id": c.service_id, "day": day, "kind": c.kind,
                             "amount": c.amount})
                if refund:
                    tally.refunds += 1
                    tally.refunded -= c.amount
                else:
                    tally.fees += 1
                    tally.charged += c.amount
        booked = movements.record(conn, "charge", items, today, now)
        for key, done in zip(keys, booked):
            key["charge_id"] = done.movement["id"]
        store.insert_charges(conn, keys)
    return ids[-1], tally


Progress = Callable[[int, int], Awaitable[Any]]


async def charge_days(context: Any, module_id: int, first_day: date, last_day: date,
                      progress: Progress, *, batch_size: int = BATCH) -> dict[str, Any]:
    """Charge the instance's fees for ``first_day``..``last_day`` in order (a catch-up
    after downtime is the same walk). A day in a closed month, or after today, is skipped
    and named in the result. ``progress(done, total)`` counts days."""
    if last_day < first_day:
        raise Invalid("the last day is before the first", {"from": first_day, "to": last_day})
    database = context.database
    plan = await database.run("npay_plan", load_plan, module_id, readonly=True)
    total = (last_day - first_day).days + 1
    tally, skipped = Tally(), []
    for n in range(total):
        day = first_day + timedelta(days=n)
        if day > context.clock.today():
            skipped.append({"day": day.isoformat(), "why": "not yet come"})
            await progress(n + 1, total)
            continue
        after: int | None = 0
        while after is not None:
            for attempt in range(1, ATTEMPTS + 1):
                try:
                    after, done = await database.run(
                        "npay_charge", charge_batch, plan, day, after, batch_size,
                        context.clock.today(), context.clock.now())
                    break
                except IntegrityError:
                    # a concurrent run charged some of these keys: read them again
                    if attempt == ATTEMPTS:
                        raise
            if done is None:
                skipped.append({"day": day.isoformat(), "why": "month closed"})
                break
            tally.add(done)
        await progress(n + 1, total)
    return {"module_id": module_id, "from": first_day.isoformat(), "to": last_day.isoformat(),
            "days": total - len(skipped), "contract_days": tally.contracts, "fees": tally.fees,
            "refunds": tally.refunds, "charged": str(tally.charged),
            "refunded": str(tally.refunded), "skipped": skipped}
