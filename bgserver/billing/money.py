"""Payments, charges and the balance: what operators and accounting software do all day.

A payment or a charge is one transaction: the contract locked, the movement stored, its
month and every later month and the current balance updated, the limit enforced, audit
and events written. ``Idempotency-Key`` makes a retried request return the first payment
instead of making a second; an external id is unique per type.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import Any, Awaitable, NamedTuple

from sqlalchemy.exc import IntegrityError

from bgserver.billing import audit, ledger, movements, visibility
from bgserver.billing.movements import view
from bgserver.billing.access import Caller
from bgserver.billing.errors import BillingError, Conflict, Invalid, NotFound
from bgserver.billing.paging import page, page_size
from bgserver.events.outbox import emit
from bgserver.storage import money as store
from bgserver.storage.batching import Batcher
from bgserver.storage.schema import payment
from bgshared import wire
from bgshared.api.models import MovementCreate, MovementTypeCreate, PaymentDelete, TemporaryLimit

MOVEMENTS = movements.TABLES


class Posting(NamedTuple):
    """A payment or charge asked for, checked as far as it can be without the database."""
    caller: Caller
    contract_id: int
    body: MovementCreate
    day: date
    today: date
    now: datetime
    #: Whose ``Idempotency-Key`` it is: one caller's keys never meet another's.
    scope: str
    idempotency_key: str | None
    request_hash: str | None


def _marks(posting: Posting) -> list[tuple]:
    """Two postings with one key or one external id never share a unit of work: the later
    one then finds the first."""
    marks: list[tuple] = []
    if posting.idempotency_key is not None:
        marks.append(("key", posting.scope, posting.idempotency_key))
    if posting.body.external_id is not None:
        marks.append(("external", posting.body.type_id, posting.body.external_id))
    return marks


async def _outcome(work: Awaitable[list[Any]]) -> Any:
    """The one outcome of a unit of one posting: its result, or the exception it raised."""
    try:
        return (await work)[0]
    except Exception as exc:  # noqa: BLE001 - handed to that posting's request
        return exc


def temporary_limit(conn, caller: Caller, contract_id: int, limit: Decimal, until: date,
                    today: date, now: datetime) -> dict[str, Any]:
    """Set a contract's temporary limit (it is locked already): the limit enforced at
    once, audited and announced. Operators' and subscribers' promised payments alike."""
    before = store.temporary_limit_of(conn, contract_id)
    store.set_temporary_limit(conn, contract_id, {
        "limit": limit, "until": until, "created_at": now, **caller.actor()})
    ledger.enforce_limit(conn, contract_id, today, now)
    after = {"limit": limit, "until": until}
    audit.record(conn, caller, "contract.temporary_limit", "contract", contract_id,
                 now=now, before=({"limit": before.limit, "until": before.until}
                                  if before else None),
                 after=after, contract_id=contract_id)
    emit(conn, "contract.changed", {"fields": ["temporary_limit"]}, occurred_at=now,
         contract_id=contract_id)
    return after


class MoneyService:
    def __init__(self, database: Any, clock: Any):
        self.database = database
        self.clock = clock
        # payments (charges) that arrive while the database is busy are booked together
        self._postings = {kind: Batcher(partial(self._post_many, kind), marks=_marks)
                          for kind in MOVEMENTS}

    # -- payments and charges ----------------------------------------------------------

    async def post(self, caller: Caller, contract_id: int, kind: str, body: MovementCreate,
                   idempotency_key: str | None = None) -> tuple[dict[str, Any], bool]:
        """-> (the movement, whether it is new). The same key and body give the first
        movement again; the same key with another body is a conflict."""
        today, now = self.clock.today(), self.clock.now()
        day = body.date or today
        if day > today:
            raise Invalid("the date is in the future", {"date": day})
        if idempotency_key is not None and not 0 < len(idempotency_key) <= 200:
            raise Invalid("Idempotency-Key must be 1 to 200 characters")
        # what a retry with this key must repeat (no key: nothing to compare)
        request_hash = hashlib.sha256(wire.dumps(
            [kind, contract_id, body.model_dump(mode="json")]).encode()).hexdigest() \
            if idempotency_key is not None else None
        return await self._postings[kind].submit(Posting(
            caller, contract_id, body, day, today, now, f"{caller.kind}:{caller.id}",
            idempotency_key, request_hash))

    async def _post_many(self, kind: str, postings: list[Posting]) -> list[Any]:
        """One unit of work for the postings that came together; if one of them raced a
        request elsewhere for its key or external id, each goes again on its own."""
        try:
            return await self.database.run(f"create_{kind}s", self._create, kind, postings)
        except IntegrityError:
            if len(postings) > 1:
                return [await _outcome(self._post_many(kind, [p])) for p in postings]
        # another request took this key or external id between our look and our insert
        posting = postings[0]
        replays = await self.database.run(f"find_{kind}", self._replays, kind, postings,
                                          readonly=True)
        if replays[0] is None:
            return [Conflict(f"external id {posting.body.external_id} is booked already",
                             {"external_id": posting.body.external_id})]
        return replays

    def _replays(self, conn, kind: str, postings: list[Posting]) -> list[Any]:
        """For each posting: the movement its ``Idempotency-Key`` made before (with
        "not new"), a conflict if that key came with another request, or None."""
        keyed = store.by_idempotency_keys(conn, MOVEMENTS[kind], [
            (p.scope, p.idempotency_key) for p in postings if p.idempotency_key is not None])
        outcomes: list[Any] = []
        for p in postings:
            row = keyed.get((p.scope, p.idempotency_key))
            if row is None:
                outcomes.append(None)
            elif row.request_hash != p.request_hash:
                outcomes.append(Conflict("this Idempotency-Key was used for another request"))
            else:
                outcomes.append((view(dict(row._mapping)), False))
        return outcomes

    def _create(self, conn, kind: str, postings: list[Posting]) -> list[Any]:
        """Book postings in one transaction: each one's checks decide its own outcome,
        then the valid ones are stored, booked, audited and announced together."""
        movement = MOVEMENTS[kind]
        locked = visibility.contracts(conn, [(p.caller, p.contract_id) for p in postings],
                                     lock=True)
        outcomes = self._replays(conn, kind, postings)
        types = store.find_types(conn, movement, {p.body.type_id for p in postings})
        external = [(types[p.body.type_id].id, p.body.external_id) for p in postings
                    if p.body.external_id is not None and p.body.type_id in types]
        booked = store.booked_external_ids(conn, movement, external)
        closed_through = store.closed_through(conn)
        valid: list[tuple[int, Posting, Any]] = []
        for i, p in enumerate(postings):
            if locked[i] is None:
                outcomes[i] = NotFound("no such contract")
            if outcomes[i] is not None:
                continue
            kind_row = types.get(p.body.type_id)
            try:
                if kind_row is None:
                    raise Invalid(f"unknown {kind} type", {"type_id": p.body.type_id})
                if (kind_row.id, p.body.external_id) in booked:
                    raise Conflict(f"external id {p.body.external_id} is booked already",
                                   {"external_id": p.body.external_id})
                ledger.check_started(locked[i], p.day)
                ledger.check_open(p.caller, p.day, closed_through)
            except BillingError as error:
                outcomes[i] = error
                continue
            valid.append((i, p, kind_row))
        if not valid:
            return outcomes
        booked = movements.record(conn, kind, [movements.NewMovement(p.caller, locked[i], {
            "amount": movements.signed(kind_row, p.body.amount), "type_id": kind_row.id, "date": p.day,
            "comment": p.body.comment, "external_id": p.body.external_id,
            "idempotency_scope": p.scope if p.idempotency_key is not None else None,
            "idempotency_key": p.idempotency_key, "request_hash": p.request_hash})
            for i, p, kind_row in valid], valid[0][1].today, valid[0][1].now)
        for (i, _, _), done in zip(valid, booked):
            outcomes[i] = (done.movement, True)
        return outcomes

    async def delete_payment(self, caller: Caller, contract_id: int, payment_id: int,
                             body: PaymentDelete) -> dict[str, Any]:
        """Undo a payment's money; the row stays, marked with who deleted it and why."""
        today, now = self.clock.today(), self.clock.now()

        def delete(conn):
            locked = visibility.contract(conn, caller, contract_id, lock=True)
            before = store.get_movement(conn, payment, payment_id, contract_id)
            if before is None:
                raise NotFound("no such payment")
            if before["deleted_at"] is not None:
                raise Conflict("the payment is deleted already")
            store.mark_payment_deleted(conn, payment_id, now, caller.actor("deleted_by_"),
                                       body.reason)
            ledger.book(conn, caller, locked, movements.LEDGER_COLUMN["payment"], -before["amount"], before["date"],
                        today, now)
            after = view(store.get_movement(conn, payment, payment_id, contract_id))
            audit.record(conn, caller, "payment.delete", "payment", payment_id, now=now,
                         before=view(before), after=after, contract_id=contract_id)
            emit(conn, "payment.deleted", {"payment_id": payment_id, "amount": before["amount"],
                                           "reason": body.reason},
                 occurred_at=now, contract_id=contract_id)
            return after

        return await self.database.run("delete_payment", delete)

    async def list(self, caller: Caller, contract_id: int, kind: str, since: date | None,
                   until: date | None, cursor: int | None, limit: int,
                   with_deleted: bool = False) -> dict[str, Any]:
        size = page_size(limit)

        def read(conn):
            visibility.contract(conn, caller, contract_id)
            return store.list_movements(conn, MOVEMENTS[kind], contract_id, since, until,
                                        cursor, size + 1, with_deleted)

        rows = await self.database.run(f"list_{kind}s", read, readonly=True)
        return page([view(r) for r in rows], size)

    # -- the balance -------------------------------------------------------------------

    async def balance(self, caller: Caller, contract_id: int, month: date | None) -> dict[str, Any]:
        month = store.month_of(month or self.clock.today())

        def read(conn):
            visibility.contract(conn, caller, contract_id)
            row = store.balance_row(conn, contract_id, month)
            return {"month": f"{month:%Y-%m}", **{k: row[k] for k in (
                "incoming", "payments", "charges", "usage", "outgoing")},
                "balance": store.current_balance(conn, contract_id)}

        return await self.database.run("read_balance", read, readonly=True)

    async def set_temporary_limit(self, caller: Caller, contract_id: int,
                                  body: TemporaryLimit) -> dict[str, Any]:
        """A promised payment: the limit is ``body.limit`` through ``body.until``."""
        today, now = self.clock.today(), self.clock.now()
        if body.until < today:
            raise Invalid("until is in the past", {"until": body.until})

        def set_limit(conn):
            visibility.contract(conn, caller, contract_id, lock=True)
            return temporary_limit(conn, caller, contract_id, body.limit, body.until, today,
                                   now)

        return await self.database.run("set_temporary_limit", set_limit)

    # -- directories and periods -------------------------------------------------------

    async def types(self, kind: str) -> list[dict[str, Any]]:
        return await self.database.run(f"list_{kind}_types", store.list_types, MOVEMENTS[kind],
                                       readonly=True)

    async def create_type(self, caller: Caller, kind: str,
                          body: MovementTypeCreate) -> dict[str, Any]:
        movement = MOVEMENTS[kind]
        now = self.clock.now()

        def create(conn):
            values = {"title": body.title, "parent_id": body.parent_id, "is_default": False}
            if kind == "charge":
                values["refund"] = body.refund
            elif body.refund:
                raise Invalid("only charge types are refunds")
            if body.parent_id is not None and store.find_type(conn, movement,
                                                              body.parent_id) is None:
                raise Invalid(f"unknown parent {kind} type", {"parent_id": body.parent_id})
            type_id = store.insert_type(conn, movement, values)
            created = {"id": type_id, **values}
            audit.record(conn, caller, f"{kind}_type.create", f"{kind}_type", type_id, now=now,
                         after=created)
            return created

        return await self.database.run(f"create_{kind}_type", create)

    async def periods(self) -> list[dict[str, Any]]:
        rows = await self.database.run("list_periods", store.list_periods, readonly=True)
        return [{"month": f"{r['month']:%Y-%m}", "closed_at": r["closed_at"],
                 "closed_by": r["actor_name"]} for r in rows]

    async def close_period(self, caller: Caller, month: date) -> dict[str, Any]:
        """Freeze a month (and every month before it) against back-dated movements."""
        month = store.month_of(month)
        now, today = self.clock.now(), self.clock.today()
        if month >= store.month_of(today):
            raise Invalid("only a past month can be closed", {"month": f"{month:%Y-%m}"})

        def close(conn):
            if store.is_closed(conn, month):
                raise Conflict(f"{month:%Y-%m} is closed already")
            store.close_month(conn, month, now, caller.actor())
            audit.record(conn, caller, "period.close", "period", f"{month:%Y-%m}", now=now,
                         after={"month": f"{month:%Y-%m}"})
            return {"month": f"{month:%Y-%m}", "closed_at": now, "closed_by": caller.name}

        return await self.database.run("close_period", close)
