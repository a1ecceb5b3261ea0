"""Contracts: the subscriber's agreement, which everything else in the billing hangs on."""

from __future__ import annotations

from typing import Any, Iterable

from twisted.internet import threads

from bgserver.billing import audit, ledger, statuses, visibility
from bgserver.billing.access import Caller
from bgserver.billing.errors import Conflict, Forbidden, Invalid
from bgserver.billing.paging import page, page_size
from bgserver.billing.passwords import check_new_password, hash_password
from bgserver.billing.recent import Recent
from bgserver.config import ContractSettings
from bgserver.events import Event
from bgserver.events.bus import EventBus
from bgserver.events.outbox import emit
from bgserver.storage import access as access_store
from bgserver.storage import cabinet as cabinet_store
from bgserver.storage import contracts as store
from bgserver.storage import statuses as status_store
from bgserver.storage.batching import Batcher
from bgshared.api.models import ContractCreate, ContractGroupCreate, ContractPatch, StatusChange
from bgshared.wire import Sealed


class ContractService:
    def __init__(self, database: Any, clock: Any, settings: ContractSettings,
                 bus: EventBus | None = None):
        """With ``bus``, a card read is remembered (:mod:`bgserver.billing.recent`) while
        the events of other processes' changes reach this one through it."""
        self.database = database
        self.clock = clock
        self.settings = settings
        # contract cards asked for while the database is busy are read together
        self._reads = Batcher(self._read_many)
        self.bus = bus
        self.cards: Recent[int, Sealed] = Recent(
            clock.reactor, settings.cache_seconds if bus is not None else 0)
        self._bus_session: int | None = None
        if bus is not None:
            database.on_commit(self.forget)
            for pattern in ("contract.*", "balance.changed"):  # ours: forgot at the commit
                bus.subscribe(pattern, lambda event: self.forget([event]), others_only=True)

    # -- numbers -----------------------------------------------------------------------

    def _generate_number(self, conn) -> str:
        today = self.clock.today()
        pattern = self.settings.number_pattern
        by_year = "{YY" in pattern
        sequence = f"contract:{pattern}:{today.year}" if by_year else f"contract:{pattern}"
        while True:
            n = store.next_number(conn, sequence[:64])
            number = pattern.format(YY=f"{today.year % 100:02d}", YYYY=today.year, N=n)
            if not store.number_taken(conn, number):
                return number

    # -- groups of a new contract ------------------------------------------------------

    @staticmethod
    def _groups_for(caller: Caller, wanted: list[int]) -> list[int]:
        """A caller limited to groups puts contracts only into its own groups."""
        if caller.groups is None:
            return wanted
        if not wanted:
            return sorted(caller.groups)
        if not set(wanted) <= caller.groups:
            raise Forbidden("you may only use your own contract groups",
                            {"groups": sorted(set(wanted) - caller.groups)})
        return wanted

    @staticmethod
    def _keeping_hidden(caller: Caller, wanted: list[int], current: list[int]) -> list[int]:
        """A caller limited to groups changes only its own part of a contract's groups:
        those it cannot see stay, so their operators keep the contract."""
        if caller.groups is None:
            return wanted
        return sorted(set(wanted) | (set(current) - caller.groups))

    # -- reading -----------------------------------------------------------------------

    async def get(self, caller: Caller, contract_id: int) -> dict[str, Any]:
        card = self._remembered(contract_id)
        if card is None:
            card = await self._reads.submit(contract_id)
        return visibility.card(caller, card)

    async def _read_many(self, ids: list[int]) -> list[dict[str, Any] | None]:
        generation = self.cards.generation
        views = await self.database.run("get_contracts", store.get_contracts, ids,
                                        readonly=True)
        cards = {contract_id: Sealed(view) for contract_id, view in views.items()}
        for contract_id, card in cards.items():
            self.cards.put(contract_id, card, generation)
        return [cards.get(i) for i in ids]

    def _remembered(self, contract_id: int) -> Sealed | None:
        """A card is trusted only if the bus has stayed connected since it was read: the
        events of changes elsewhere published in between never come."""
        bus = self.bus
        session = bus.sessions if bus is not None and bus.connected else None
        if session != self._bus_session:
            self._bus_session = session
            self.cards.clear()
        return self.cards.get(contract_id) if session is not None else None

    def forget(self, events: Iterable[Event]) -> None:
        """Events of a change (committed here, or arriving from another process): the
        cards of their contracts are read again."""
        self.cards.forget({e.contract_id for e in events if e.contract_id is not None})

    async def search(self, caller: Caller, q: str | None, cursor: int | None,
                     limit: int) -> dict[str, Any]:
        size = page_size(limit)
        rows = await self.database.run("search_contracts", store.search_contracts, q or None,
                                       caller.groups, cursor, size + 1, readonly=True)
        return page(rows, size)

    # -- changing ----------------------------------------------------------------------

    async def create(self, caller: Caller, body: ContractCreate) -> dict[str, Any]:
        groups = self._groups_for(caller, body.groups)
        if body.cabinet_password is not None:
            # the cabinet's login is the contract's number
            check_new_password(body.cabinet_password, body.number, field="cabinet_password")
        password_hash = (await threads.deferToThread(hash_password, body.cabinet_password)
                         if body.cabinet_password else None)
        now = self.clock.now()
        date_from = body.date_from or self.clock.today()
        if body.date_to is not None and body.date_to < date_from:
            raise Invalid("date_to is before date_from")

        def create(conn):
            missing = sorted(set(groups) - access_store.existing_groups(conn, groups))
            if missing:
                raise Invalid("unknown contract groups", {"groups": missing})
            if body.number is not None and store.number_taken(conn, body.number):
                raise Conflict(f"contract number {body.number} is taken")
            number = body.number or self._generate_number(conn)
            if body.cabinet_password is not None:
                check_new_password(body.cabinet_password, number, field="cabinet_password")
            contract_id = store.insert_contract(conn, {
                "number": number, "title": body.title, "person_type": body.person_type,
                "mode": body.mode, "limit": body.limit, "date_from": date_from,
                "date_to": body.date_to, "comment": body.comment,
                "cabinet_password_hash": password_hash, "created_at": now, "updated_at": now})
            store.set_contract_groups(conn, contract_id, groups)
            statuses.open_first(conn, caller, contract_id, date_from, now)
            view = store.get_contract(conn, contract_id)
            audit.record(conn, caller, "contract.create", "contract", contract_id, now=now,
                         after=view, contract_id=contract_id)
            emit(conn, "contract.created", {"number": number, "title": body.title},
                 occurred_at=now, contract_id=contract_id)
            return view

        return await self.database.run("create_contract", create)

    async def update(self, caller: Caller, contract_id: int,
                     body: ContractPatch) -> dict[str, Any]:
        changes = body.model_dump(exclude_unset=True)
        groups = self._groups_for(caller, changes.pop("groups")) if "groups" in changes else None
        password = changes.pop("cabinet_password", None)
        if password is not None:
            check_new_password(password, field="cabinet_password")
            changes["cabinet_password_hash"] = await threads.deferToThread(hash_password,
                                                                          password)
        now = self.clock.now()

        def change(conn):
            before = visibility.card(caller, store.get_contract(conn, contract_id, lock=True))
            if password is not None:
                check_new_password(password, before["number"], field="cabinet_password")
            if "date_to" in changes and changes["date_to"] is not None \
                    and changes["date_to"] < before["date_from"]:
                raise Invalid("date_to is before date_from")
            for key in ("title", "person_type", "mode", "limit", "comment"):
                if key in changes and changes[key] is None:
                    raise Invalid(f"{key} cannot be null")
            store.update_contract(conn, contract_id, {**changes, "updated_at": now})
            if groups is not None:
                missing = sorted(set(groups) - access_store.existing_groups(conn, groups))
                if missing:
                    raise Invalid("unknown contract groups", {"groups": missing})
                store.set_contract_groups(conn, contract_id,
                                          self._keeping_hidden(caller, groups, before["groups"]))
            if "limit" in changes or "mode" in changes:
                ledger.enforce_limit(conn, contract_id, self.clock.today(), now)
            after = store.get_contract(conn, contract_id)
            changed = sorted(k for k in after if after[k] != before[k] and k != "updated_at")
            if "cabinet_password_hash" in changes:
                changed.append("cabinet_password")
                # whoever knew the old password is signed out of the cabinet
                cabinet_store.revoke_sessions(conn, contract_id, now)
            audit.record(conn, caller, "contract.update", "contract", contract_id, now=now,
                         before=before, after={**after, **(
                             {"cabinet_password": "changed"} if password else {})},
                         contract_id=contract_id)
            emit(conn, "contract.changed", {"fields": changed}, occurred_at=now,
                 contract_id=contract_id)
            return after

        return await self.database.run("update_contract", change)

    # -- statuses ----------------------------------------------------------------------

    async def change_status(self, caller: Caller, contract_id: int,
                            body: StatusChange) -> dict[str, Any]:
        """An operator's change: a block set here has the reason ``operator``."""
        today, now = self.clock.today(), self.clock.now()
        day = body.date_from or today

        def change(conn):
            visibility.contract(conn, caller, contract_id, lock=True)
            return statuses.change(conn, caller, contract_id, body.status,
                                   "operator" if body.status == "blocked" else None, day,
                                   body.comment, today, now)

        return await self.database.run("change_status", change)

    async def status_history(self, caller: Caller, contract_id: int) -> list[dict[str, Any]]:
        def read(conn):
            visibility.contract(conn, caller, contract_id)
            return status_store.history(conn, contract_id)

        return await self.database.run("status_history", read, readonly=True)

    # -- groups ------------------------------------------------------------------------

    async def list_groups(self) -> list[dict[str, Any]]:
        return await self.database.run("list_contract_groups", store.list_groups,
                                       readonly=True)

    async def create_group(self, caller: Caller, body: ContractGroupCreate) -> dict[str, Any]:
        now = self.clock.now()

        def create(conn):
            if store.group_title_taken(conn, body.title):
                raise Conflict(f"contract group {body.title!r} exists already")
            group_id = store.insert_group(conn, body.title)
            view = {"id": group_id, "title": body.title}
            audit.record(conn, caller, "contract_group.create", "contract_group", group_id,
                         now=now, after=view)
            return view

        return await self.database.run("create_contract_group", create)
