"""Periodic fees day by day through months of 28, 29, 30 and 31 days, on SQLite and MariaDB.

The clock moves one day at a time; each day is charged twice (the second run must charge
nothing). Every expected charge below is worked out by hand from the rules of design §3
(cumulative rounding of daily shares; advance fees on the 1st, given back and charged again
from the day of a change), written as literal amounts: nothing here calls the rules.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
import pytest_twisted
from sqlalchemy import func, insert, select, update
from twisted.internet.defer import ensureDeferred, gatherResults

from bgserver.billing import ledger, statuses, visibility
from bgserver.billing.access import system_caller
from bgserver.billing.money import MoneyService
from bgserver.config import Settings
from bgserver.modules.npay.charging import charge_days
from bgserver.modules.npay.tables import npay_charge
from bgserver.storage.schema import (charge, contract, contract_tariff, module_instance, period,
                                     service, tariff_module, tariff_plan)
from bgshared.api.models import MovementCreate, TemporaryLimit
from tests.conftest import ZONE

D = Decimal
TESTER = system_caller("npay-test")
FEE, REFUND = 4, 3  # the charge types an npay instance books by default


# -- setting up: direct inserts -----------------------------------------------------------

class Desk:
    """An npay instance with its services and tariff plans, and the fake clock."""

    def __init__(self, database, reactor, clock):
        self.database, self.reactor, self.clock = database, reactor, clock
        self.money = MoneyService(database, clock)
        self.context = SimpleNamespace(database=database, clock=clock, settings=Settings())
        self.progress: list[tuple[int, int]] = []
        now = clock.now()
        with database.engine.begin() as conn:
            self.module_id = conn.execute(insert(module_instance).values(
                type="npay", title="Fees", config="{}", created_at=now, updated_at=now)
            ).inserted_primary_key[0]
            self.services = [conn.execute(insert(service).values(
                module_id=self.module_id, title=title, unit="month", created_at=now)
            ).inserted_primary_key[0] for title in ("Access", "Television")]

    def tariff(self, title, *fees):
        """fees: (service index, amount, mode, charge_when_blocked)."""
        now = self.clock.now()
        config = {"fees": [{"service_id": self.services[s], "amount": amount, "mode": mode,
                            "charge_when_blocked": blocked} for s, amount, mode, blocked in fees]}
        with self.database.engine.begin() as conn:
            tariff_id = conn.execute(insert(tariff_plan).values(
                title=title, created_at=now, updated_at=now)).inserted_primary_key[0]
            conn.execute(insert(tariff_module).values(tariff_id=tariff_id,
                                                      module_id=self.module_id,
                                                      config=json.dumps(config)))
        return tariff_id

    def contract(self, number, tariff_id, date_from, date_to=None, mode="postpaid"):
        now = self.clock.now()
        with self.database.engine.begin() as conn:
            contract_id = conn.execute(insert(contract).values(
                number=number, title=number, mode=mode, date_from=date_from, date_to=date_to,
                comment="", created_at=now, updated_at=now)).inserted_primary_key[0]
            statuses.open_first(conn, TESTER, contract_id, date_from, now)
        self.set_tariff(contract_id, tariff_id, date_from)
        return contract_id

    def set_tariff(self, contract_id, tariff_id, day):
        """A new tariff period from ``day``; the open one ends the day before."""
        with self.database.engine.begin() as conn:
            conn.execute(update(contract_tariff).where(
                contract_tariff.c.contract_id == contract_id,
                contract_tariff.c.date_to.is_(None)).values(date_to=day - timedelta(days=1)))
            conn.execute(insert(contract_tariff).values(
                contract_id=contract_id, tariff_id=tariff_id, date_from=day, comment="",
                created_at=self.clock.now(), **TESTER.actor()))

    async def status(self, contract_id, status, reason=None):
        today, now = self.clock.today(), self.clock.now()

        def change(conn):
            visibility.contract(conn, TESTER, contract_id, lock=True)
            statuses.change(conn, TESTER, contract_id, status, reason, today, "", today, now)

        await self.database.run("status", change)

    async def pay(self, contract_id, amount):
        await self.money.post(TESTER, contract_id, "payment", MovementCreate(amount=amount))

    def go_to(self, day):
        """Noon in the billing time zone of ``day``."""
        target = datetime.combine(day, time(12), ZONE).timestamp()
        assert target >= self.reactor.seconds()
        self.reactor.advance(target - self.reactor.seconds())
        assert self.clock.today() == day

    async def run(self, first, last=None, **kwargs):
        async def progress(done, total):
            self.progress.append((done, total))
        return await charge_days(self.context, self.module_id, first, last or first, progress,
                                 **kwargs)

    async def day_twice(self, day):
        """Charge the day; a second run charges nothing more."""
        first = await self.run(day)
        before = self.charges()
        again = await self.run(day)
        assert (again["fees"], again["refunds"]) == (0, 0)
        assert self.charges() == before
        return first

    def charges(self):
        """contract -> [(date, service index, type, amount)] in booking order."""
        with self.database.engine.connect() as conn:
            rows = conn.execute(select(charge).order_by(charge.c.id)).all()
        by_contract = defaultdict(list)
        for r in rows:
            by_contract[r.contract_id].append(
                (r.date, self.services.index(r.service_id), r.type_id, r.amount))
        return dict(by_contract)

    def balances(self):
        with self.database.engine.connect() as conn:
            return {r.id: (r.balance, r.status) for r in conn.execute(
                select(contract.c.id, contract.c.balance, contract.c.status))}


def daily(first: date, service: int, amounts: str):
    """Daily fees from ``first`` on, one a day: ``amounts`` a space-separated list."""
    return [(first + timedelta(days=n), service, FEE, D(a))
            for n, a in enumerate(amounts.split())]


def one(day: date, service: int, amount: str, type_id: int = FEE):
    return [(day, service, type_id, D(amount))]


def sort(charges):
    return sorted(charges, key=lambda c: (c[0], c[1], c[2] == FEE))


@pytest.fixture
def desk(database, fake_reactor, clock):
    return Desk(database, fake_reactor, clock)


# -- the scenario -------------------------------------------------------------------------

# 100.00 a month by the day: 28 days (Feb 2027), 31 days (Mar 2027), 30 days (Apr 2027).
WEEK_OF_28 = "3.57 3.57 3.57 3.58 3.57 3.57 3.57"
FEB_100 = " ".join([WEEK_OF_28] * 4)
MAR_100 = ("3.23 3.22 3.23 3.22 3.23 3.22 3.23 3.23 3.22 3.23 3.22 3.23 3.23 3.22 3.23 3.22 "
           "3.23 3.22 3.23 3.23 3.22 3.23 3.22 3.23 3.23 3.22 3.23 3.22 3.23 3.22 3.23")
APR_100 = " ".join(["3.33 3.34 3.33"] * 10)
# 155.00 a month by the day: 30 days (Apr 2027), 29 days (Feb 2028), 31 days: 5.00 each.
APR_155 = " ".join(["5.17 5.16 5.17 5.17 5.16 5.17"] * 5)
FEB28_155 = " ".join(["5.34 5.35"] * 14 + ["5.34"])


def mar(day):
    return date(2027, 3, day)


@pytest_twisted.ensureDeferred
async def test_fees_day_by_day_through_months_of_28_to_31_days(desk):
    # service 0 by the day, service 1 in advance
    t1 = desk.tariff("T1", (0, "100.00", "daily", False), (1, "300.00", "advance", False))
    t2 = desk.tariff("T2", (0, "155.00", "daily", False), (1, "450.00", "advance", False))
    by_day = desk.tariff("by the day", (0, "280.00", "daily", False))
    by_day_blocked = desk.tariff("by the day, blocked too", (0, "280.00", "daily", True))
    in_advance = desk.tariff("in advance", (1, "300.00", "advance", False))
    t6 = desk.tariff("T6", (0, "290.00", "daily", False), (1, "87.00", "advance", False))
    feb = date(2027, 2, 1)
    end_feb = date(2027, 2, 28)
    desk.go_to(feb)
    # C1: a tariff change on March 12
    c1 = desk.contract("C1", t1, feb)
    # C2: suspended March 10..19, ends with April
    c2 = desk.contract("C2", t1, feb, date(2027, 4, 30))
    # C3: opened March 8, closed after March 24
    c3 = desk.contract("C3", t1, mar(8), mar(24))
    # prepaid, limit 0: blocked by their own fees
    c4 = desk.contract("C4", by_day, feb, end_feb, mode="prepaid")
    c5 = desk.contract("C5", by_day_blocked, feb, end_feb, mode="prepaid")
    c6 = desk.contract("C6", in_advance, feb, end_feb, mode="prepaid")
    for contract_id, amount in ((c4, "35.00"), (c5, "35.00"), (c6, "100.00")):
        await desk.pay(contract_id, amount)

    day = feb
    while day <= date(2027, 4, 30):
        desk.go_to(day)
        if day == date(2027, 2, 10):
            await desk.pay(c4, "50.00")  # back within the limit: charged again
        if day == date(2027, 2, 15):
            await desk.pay(c6, "250.00")  # freed; its advance fee is held, not charged again
        if day == mar(10):
            await desk.status(c2, "suspended")
        if day == mar(20):
            await desk.status(c2, "active")
        if day == mar(12):
            desk.set_tariff(c1, t2, day)
        await desk.day_twice(day)
        day += timedelta(days=1)

    charges = desk.charges()
    assert sort(charges[c1]) == sort(
        daily(feb, 0, FEB_100) + one(feb, 1, "300.00")
        + daily(mar(1), 0, "3.23 3.22 3.23 3.22 3.23 3.22 3.23 3.23 3.22 3.23 3.22")
        + daily(mar(12), 0, " ".join(["5.00"] * 20))
        # 300.00 - round(300.00*11/31) = 300.00 - 106.45; 450.00 - round(450.00*11/31)
        + one(mar(1), 1, "300.00") + one(mar(12), 1, "-193.55", REFUND)
        + one(mar(12), 1, "290.32")
        + daily(date(2027, 4, 1), 0, APR_155) + one(date(2027, 4, 1), 1, "450.00"))
    assert sort(charges[c2]) == sort(
        daily(feb, 0, FEB_100) + one(feb, 1, "300.00")
        + daily(mar(1), 0, "3.23 3.22 3.23 3.22 3.23 3.22 3.23 3.23 3.22")
        + daily(mar(20), 0, "3.23 3.22 3.23 3.22 3.23 3.23 3.22 3.23 3.22 3.23 3.22 3.23")
        # suspended on the 10th: 300.00 - round(300.00*9/31) = 300.00 - 87.10 back;
        # active on the 20th: 300.00 - round(300.00*19/31) = 300.00 - 183.87
        + one(mar(1), 1, "300.00") + one(mar(10), 1, "-212.90", REFUND)
        + one(mar(20), 1, "116.13")
        + daily(date(2027, 4, 1), 0, APR_100) + one(date(2027, 4, 1), 1, "300.00"))
    assert sort(charges[c3]) == sort(
        # days 8..24 of MAR_100: round(100.00*24/31) - round(100.00*7/31) = 77.42 - 22.58
        daily(mar(8), 0, "3.23 3.22 3.23 3.22 3.23 3.23 3.22 3.23 3.22 3.23 3.22 3.23 3.23 "
                         "3.22 3.23 3.22 3.23")
        # 300.00 - round(300.00*7/31) = 300.00 - 67.74; back from the 25th:
        # 300.00 - round(300.00*24/31) = 300.00 - 232.26
        + one(mar(8), 1, "232.26") + one(mar(25), 1, "-67.74", REFUND))
    # 10.00 a day; blocked on the 4th at -5.00, freed on the 10th at 45.00, blocked again
    # on the 14th at -5.00
    assert sort(charges[c4]) == daily(feb, 0, "10.00 10.00 10.00 10.00") + \
        daily(date(2027, 2, 10), 0, "10.00 10.00 10.00 10.00 10.00")
    assert sort(charges[c5]) == daily(feb, 0, " ".join(["10.00"] * 28))
    assert sort(charges[c6]) == one(feb, 1, "300.00")
    balances = desk.balances()
    assert balances[c4] == (D("-5.00"), "blocked")
    assert balances[c5] == (D("-245.00"), "blocked")
    assert balances[c6] == (D("50.00"), "active")
    assert balances[c1][0] == -sum(c[3] for c in charges[c1])
    assert balances[c1][0] == -(D("100.00") + D("300.00") + D("35.48") + D("100.00")
                                + D("300.00") - D("193.55") + D("290.32") + D("155.00")
                                + D("450.00"))

    # February 2028, 29 days: a run for each of the first 15 days, then a catch-up
    feb28 = date(2028, 2, 1)
    c7 = None
    for n in range(15):
        desk.go_to(feb28 + timedelta(days=n))
        if n == 9:
            c7 = desk.contract("C7", t6, desk.clock.today())  # opened on the 10th
        await desk.day_twice(feb28 + timedelta(days=n))
    desk.go_to(date(2028, 2, 29))
    caught = await desk.run(date(2028, 2, 16), date(2028, 2, 29), batch_size=1)
    assert caught["days"] == 14 and caught["skipped"] == []
    assert desk.progress[-14:] == [(n, 14) for n in range(1, 15)]
    charges = desk.charges()
    assert sort(charges[c1])[-30:] == sort(daily(feb28, 0, FEB28_155)
                                           + one(feb28, 1, "450.00"))
    # 290.00 over 29 days is 10.00 a day; 87.00 - round(87.00*9/29) = 87.00 - 27.00
    assert sort(charges[c7]) == sort(daily(date(2028, 2, 10), 0, " ".join(["10.00"] * 20))
                                     + one(date(2028, 2, 10), 1, "60.00"))
    assert all(c[0] < feb28 for c in charges[c2] + charges[c3])
    again = await desk.run(date(2028, 2, 1), date(2028, 2, 29))
    assert (again["fees"], again["refunds"]) == (0, 0)
    assert desk.charges() == charges

    # each fee's key names its charge, with the same amount
    with desk.database.engine.connect() as conn:
        keys = conn.execute(select(npay_charge.c.charge_id, npay_charge.c.amount,
                                   npay_charge.c.kind, charge.c.amount.label("charged"),
                                   charge.c.type_id)
                            .join(charge, charge.c.id == npay_charge.c.charge_id)).all()
        assert conn.execute(select(func.count()).select_from(charge)).scalar_one() == len(keys)
    assert all(k.amount == k.charged and k.type_id == (REFUND if k.kind == "refund" else FEE)
               for k in keys)


@pytest_twisted.ensureDeferred
async def test_a_closed_month_and_days_to_come_are_skipped_and_named(desk):
    t1 = desk.tariff("T1", (0, "310.00", "daily", False))
    desk.go_to(date(2026, 2, 1))
    c1 = desk.contract("C1", t1, date(2026, 1, 30))
    with desk.database.engine.begin() as conn:
        conn.execute(insert(period).values(month=date(2026, 1, 1), closed_at=desk.clock.now(),
                                           **TESTER.actor()))
    result = await desk.run(date(2026, 1, 31), date(2026, 2, 2))
    assert result["skipped"] == [{"day": "2026-01-31", "why": "month closed"},
                                 {"day": "2026-02-02", "why": "not yet come"}]
    assert result["days"] == 1
    # 310.00 over 28 days, day 1: round(11.0714) = 11.07
    assert desk.charges()[c1] == one(date(2026, 2, 1), 0, "11.07")


@pytest_twisted.ensureDeferred
async def test_two_runs_of_one_day_at_once_charge_it_once(desk):
    t1 = desk.tariff("T1", (0, "31.00", "daily", False), (1, "62.00", "advance", False))
    desk.go_to(date(2026, 3, 1))
    ids = [desk.contract(f"C{n}", t1, date(2026, 3, 1)) for n in range(7)]
    results = await gatherResults([ensureDeferred(desk.run(date(2026, 3, 1), batch_size=2)),
                                   ensureDeferred(desk.run(date(2026, 3, 1), batch_size=3))])
    assert sum(r["fees"] for r in results) == 14
    charges = desk.charges()
    for contract_id in ids:
        assert sort(charges[contract_id]) == sort(one(date(2026, 3, 1), 0, "1.00")
                                                  + one(date(2026, 3, 1), 1, "62.00"))


@pytest_twisted.ensureDeferred
async def test_fees_stop_when_a_temporary_limit_ends_and_come_back_with_a_payment(desk):
    """310.00 a month in January (31 days) is exactly 10.00 a day. 25.00 paid, a promised
    payment lets the balance go down to -30.00 through the 5th: fees the 1st to the 5th
    (-25.00), blocked on the 6th when the promise ends, nothing on the 6th and 7th, a
    payment of 40.00 on the 7th frees it, a fee again on the 8th."""
    tariff = desk.tariff("Daily 310", (0, "310.00", "daily", False))
    desk.go_to(date(2027, 1, 1))
    subscriber = desk.contract("T-1", tariff, date(2027, 1, 1), mode="prepaid")
    await desk.pay(subscriber, D("25.00"))
    await desk.money.set_temporary_limit(TESTER, subscriber, TemporaryLimit(
        limit=D("-30.00"), until=date(2027, 1, 5)))
    seen = []
    for n in range(1, 9):
        day = date(2027, 1, n)
        desk.go_to(day)
        # limits.restore, then npay.charge, as the scheduler orders them each night
        await desk.database.run("restore", ledger.expire_temporary_limits, day,
                                desk.clock.now())
        await desk.day_twice(day)
        if n == 7:
            await desk.pay(subscriber, D("40.00"))
        seen.append(desk.balances()[subscriber])
    assert desk.charges()[subscriber] == daily(date(2027, 1, 1), 0,
                                               "10.00 10.00 10.00 10.00 10.00") \
        + one(date(2027, 1, 8), 0, "10.00")
    assert seen == [(D("15.00"), "active"), (D("5.00"), "active"), (D("-5.00"), "active"),
                    (D("-15.00"), "active"), (D("-25.00"), "active"),
                    (D("-25.00"), "blocked"), (D("15.00"), "active"),
                    (D("5.00"), "active")]
