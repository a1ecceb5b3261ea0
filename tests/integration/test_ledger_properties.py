"""The ledger invariant under random sequences of payments, charges, back-dated movements,
deletions, bursts of postings booked together (the group commit) and a clock moving across
months, on SQLite and MariaDB: the current balance is payments - charges - usage, each
month's row adds up, each month's incoming is the previous month's outgoing, and a prepaid
contract is blocked exactly while its balance is below its limit."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from twisted.internet.defer import Deferred, ensureDeferred, maybeDeferred
from twisted.python.failure import Failure

from bgserver.billing.access import system_caller
from bgserver.billing.contracts import ContractService
from bgserver.billing.money import MoneyService
from bgserver.config import ContractSettings, Settings
from bgserver.storage import migrate
from bgserver.storage.database import Database
from bgserver.storage.schema import balance, charge, contract, payment
from bgshared.api.models import ContractCreate, MovementCreate, PaymentDelete

TESTER = system_caller("property-test")
ZERO = Decimal("0.00")
amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2)
#: Days back from 2026-01-15: into December and November too.
days_back = st.integers(min_value=0, max_value=75)
movements = st.tuples(st.sampled_from(["payment", "charge"]), amounts, days_back)
operations = st.lists(st.one_of(
    st.tuples(st.just("payment"), amounts, days_back),
    st.tuples(st.just("charge"), amounts, days_back),
    st.tuples(st.just("delete"), st.integers(min_value=0, max_value=20), st.just(0)),
    # postings that arrive together and are booked in one unit of work
    st.tuples(st.just("burst"), st.lists(movements, min_size=2, max_size=6), st.just(0)),
    # days pass: into the next month or two
    st.tuples(st.just("days"), st.integers(min_value=1, max_value=45), st.just(0)),
), min_size=1, max_size=25)
limits = st.sampled_from([Decimal("0.00"), Decimal("-500.00"), Decimal("1000.00")])


class InlineDatabase:
    """The services' database, doing each unit of work at once in this thread: the
    services' code runs unchanged, without waiting on the reactor (which hypothesis, a
    synchronous runner, cannot do from inside a test)."""

    def __init__(self, database):
        self.database = database
        self.held: list | None = None
        #: The names of the units of work asked for, in order.
        self.units: list[str] = []

    def run(self, name, fn, *args, **kwargs):
        self.units.append(name)
        if self.held is not None:  # a unit in flight: what arrives meanwhile gathers
            answer = Deferred()
            self.held.append((answer, name, fn, args, kwargs))
            return answer
        return maybeDeferred(self.database.run_sync, name, fn, *args, **kwargs)

    def together(self, start) -> list:
        """Start several requests (``start()`` -> Deferreds) while the first unit of work
        is held in flight, as on a busy server; then let the units run."""
        self.held = []
        started = start()
        while self.held:
            answer, name, fn, args, kwargs = self.held.pop(0)
            maybeDeferred(self.database.run_sync, name, fn, *args, **kwargs).chainDeferred(
                answer)
        self.held = None
        return [block(d) for d in started]


def block(coroutine):
    outcome = []
    ensureDeferred(coroutine).addBoth(outcome.append)
    assert outcome, "the service waited on something other than the database"
    if isinstance(outcome[0], Failure):
        outcome[0].raiseException()
    return outcome[0]


def inline_database(url: str) -> InlineDatabase:
    """A migrated database used only through ``run_sync``: no thread pool to stop."""
    database = Database(Settings().with_overrides(database={"url": url}).database)
    migrate.upgrade(database.engine)
    return InlineDatabase(database)


@pytest.fixture
def sqlite_inline(sqlite_url):
    inline = inline_database(sqlite_url)
    yield inline
    inline.database.engine.dispose()


@pytest.fixture
def mariadb_inline(mariadb):
    inline = inline_database(mariadb.create_database())
    yield inline
    inline.database.engine.dispose()


def ledger_state(conn, contract_id):
    current = conn.execute(select(contract.c.balance).where(contract.c.id == contract_id)
                           ).scalar_one()
    rows = conn.execute(select(balance).where(balance.c.contract_id == contract_id)
                        .order_by(balance.c.month)).all()
    payments = conn.execute(select(payment.c.amount, payment.c.date).where(
        payment.c.contract_id == contract_id, payment.c.deleted_at.is_(None))).all()
    charges = conn.execute(select(charge.c.amount, charge.c.date).where(
        charge.c.contract_id == contract_id)).all()
    return current, rows, payments, charges


# Two tests rather than one parametrized: pytest-twisted wraps a hypothesis test in place,
# so a second parametrization of the same function would be wrapped twice.
EXAMPLES = settings(max_examples=25, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@EXAMPLES
@given(operations, st.sampled_from(["prepaid", "postpaid"]), limits)
def test_ledger_invariant_on_sqlite(sqlite_inline, fake_reactor, clock, ops, mode, limit):
    check_invariant(sqlite_inline, fake_reactor, clock, ops, mode, limit)


@pytest.mark.mariadb
@EXAMPLES
@given(operations, st.sampled_from(["prepaid", "postpaid"]), limits)
def test_ledger_invariant_on_mariadb(mariadb_inline, fake_reactor, clock, ops, mode, limit):
    check_invariant(mariadb_inline, fake_reactor, clock, ops, mode, limit)


def check_invariant(inline_database, fake_reactor, clock, ops, mode, limit):
    database = inline_database.database
    contracts = ContractService(inline_database, clock, ContractSettings())
    money = MoneyService(inline_database, clock)
    start = fake_reactor.seconds()
    created = block(contracts.create(TESTER, ContractCreate(
        title="property", mode=mode, limit=limit, date_from=date(2025, 10, 1))))
    contract_id = created["id"]
    paid: list[int] = []

    def post(op, amount, back):
        return ensureDeferred(money.post(TESTER, contract_id, op, MovementCreate(
            amount=amount, date=clock.today() - timedelta(days=back))))

    try:
        moved = False  # the limit is enforced when money moves (not at creation)
        for op, value, back in ops:
            if op == "delete":
                if paid:
                    block(money.delete_payment(TESTER, contract_id,
                                               paid.pop(value % len(paid)),
                                               PaymentDelete(reason="test")))
                    moved = True
            elif op == "days":
                fake_reactor.advance(value * 86400)
            elif op == "burst":
                asked = len(inline_database.units)
                results = inline_database.together(lambda: [post(*m) for m in value])
                units = inline_database.units[asked:]
                for kind in ("payment", "charge"):  # the first alone, the rest together
                    together = sum(1 for k, _, _ in value if k == kind)
                    assert units.count(f"create_{kind}s") == min(together, 2), units
                paid += [movement["id"] for (movement, _), (kind, _, _) in zip(results, value)
                         if kind == "payment"]
            else:
                movement, _ = block(post(op, value, back))
                if op == "payment":
                    paid.append(movement["id"])
            moved = moved or op != "days" and op != "delete"
            if moved:
                check_limit(database, contract_id, mode, limit)
    finally:
        fake_reactor.advance(start - fake_reactor.seconds())  # the clock fixture is shared

    current, rows, payments, charges = database.run_sync(
        "ledger_state", ledger_state, contract_id, readonly=True)
    assert current == sum((p.amount for p in payments), ZERO) - sum((c.amount for c in charges),
                                                                    ZERO)
    previous = ZERO
    for row in rows:
        assert row.incoming == previous
        assert row.outgoing == row.incoming + row.payments - row.charges - row.usage
        assert row.payments == sum((p.amount for p in payments if p.date.replace(day=1)
                                    == row.month), ZERO)
        assert row.charges == sum((c.amount for c in charges if c.date.replace(day=1)
                                   == row.month), ZERO)
        previous = row.outgoing
    assert previous == current


def check_limit(database, contract_id, mode, limit):
    """A prepaid contract is blocked exactly while its balance is below its limit."""
    row = database.run_sync("status", lambda c: c.execute(
        select(contract.c.balance, contract.c.status).where(contract.c.id == contract_id)
    ).one(), readonly=True)
    below = mode == "prepaid" and row.balance < limit
    assert row.status == ("blocked" if below else "active"), (row, mode, limit)

