"""Tariff plans and the dated periods contracts spend on them.

A plan holds, per module instance, a config that the instance's module type checks; a
contract is on one plan at a time, each period from a day, the previous one ending the
day before. History is kept: periods are ended, never rewritten, except one that has not
begun yet, which can be dropped.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bgserver.billing import audit, ledger, visibility
from bgserver.billing.access import Caller
from bgserver.billing.errors import Conflict, Invalid, NotFound
from bgserver.billing.modules import checked_config
from bgserver.events.outbox import emit
from bgserver.modules import ModuleRegistry
from bgserver.storage import access as access_store
from bgserver.storage import modules as module_store
from bgserver.storage import money as money_store
from bgserver.storage import tariffs as store
from bgshared.api.models import ContractTariffCreate, TariffCreate, TariffPatch


class TariffService:
    def __init__(self, database: Any, clock: Any, registry: ModuleRegistry):
        self.database = database
        self.clock = clock
        self.registry = registry

    @staticmethod
    def plan(conn, tariff_id: int) -> dict[str, Any]:
        found = store.get_plan(conn, tariff_id)
        if found is None:
            raise NotFound("no such tariff plan", {"tariff_id": tariff_id})
        return found

    def _checked_modules(self, conn, modules: dict[int, Any]) -> dict[int, Any]:
        """Each instance's config checked by its module type; the services it names must
        be that instance's own."""
        checked = {}
        for module_id, config in modules.items():
            field = f"modules.{module_id}"
            instance = module_store.get_instance(conn, module_id)
            module_type = instance and self.registry.get(instance["type"])
            if module_type is None:
                raise Invalid("no such module instance",
                              [{"field": field, "message": "no such module instance"}])
            checked[module_id] = checked_config(module_type.tariff_config, config, field)
            foreign = module_type.tariff_config.model_validate(config).service_ids() \
                - module_store.service_ids(conn, module_id)
            if foreign:
                raise Invalid("services of another module instance", [{
                    "field": field, "message": f"not services of module instance {module_id}: "
                                               f"{', '.join(map(str, sorted(foreign)))}"}])
        return checked

    @staticmethod
    def _check_groups(conn, groups: list[int]) -> None:
        missing = sorted(set(groups) - access_store.existing_groups(conn, groups))
        if missing:
            raise Invalid("unknown contract groups", {"groups": missing})

    # -- plans -----------------------------------------------------------------------------

    async def list(self) -> list[dict[str, Any]]:
        return await self.database.run("list_tariffs", store.list_plans, readonly=True)

    async def get(self, tariff_id: int) -> dict[str, Any]:
        return await self.database.run("get_tariff", self.plan, tariff_id, readonly=True)

    async def create(self, caller: Caller, body: TariffCreate) -> dict[str, Any]:
        now = self.clock.now()

        def create(conn):
            if store.title_taken(conn, body.title):
                raise Conflict(f"tariff plan {body.title!r} exists already")
            self._check_groups(conn, body.groups)
            modules = self._checked_modules(conn, body.modules)
            tariff_id = store.insert_plan(conn, {
                "title": body.title, "cabinet_title": body.cabinet_title or body.title,
                "enabled": True, "created_at": now, "updated_at": now})
            store.set_plan_groups(conn, tariff_id, body.groups)
            store.set_plan_modules(conn, tariff_id, modules)
            view = self.plan(conn, tariff_id)
            audit.record(conn, caller, "tariff.create", "tariff", tariff_id, now=now, after=view)
            emit(conn, "tariff.changed", {"tariff_id": tariff_id}, occurred_at=now)
            return view

        return await self.database.run("create_tariff", create)

    async def update(self, caller: Caller, tariff_id: int, body: TariffPatch) -> dict[str, Any]:
        changes = body.model_dump(exclude_unset=True)
        for key in ("title", "cabinet_title", "enabled", "groups", "modules"):
            if key in changes and changes[key] is None:
                raise Invalid(f"{key} cannot be null")
        now = self.clock.now()

        def change(conn):
            before = self.plan(conn, tariff_id)
            if "title" in changes and store.title_taken(conn, changes["title"], tariff_id):
                raise Conflict(f"tariff plan {changes['title']!r} exists already")
            if "groups" in changes:
                self._check_groups(conn, changes["groups"])
                store.set_plan_groups(conn, tariff_id, changes.pop("groups"))
            if "modules" in changes:
                store.set_plan_modules(conn, tariff_id,
                                       self._checked_modules(conn, changes.pop("modules")))
            store.update_plan(conn, tariff_id, {**changes, "updated_at": now})
            after = self.plan(conn, tariff_id)
            audit.record(conn, caller, "tariff.update", "tariff", tariff_id, now=now,
                         before=before, after=after)
            emit(conn, "tariff.changed", {"tariff_id": tariff_id}, occurred_at=now)
            return after

        return await self.database.run("update_tariff", change)

    # -- a contract's periods ----------------------------------------------------------------

    async def periods(self, caller: Caller, contract_id: int) -> list[dict[str, Any]]:
        def read(conn):
            visibility.contract(conn, caller, contract_id)
            return store.periods(conn, contract_id)

        return await self.database.run("contract_tariffs", read, readonly=True)

    async def assign(self, caller: Caller, contract_id: int,
                     body: ContractTariffCreate) -> dict[str, Any]:
        """The contract is on ``tariff_id`` from ``from`` on; the period before ends the
        day before. A period already begun on or after that day is a conflict."""
        today, now = self.clock.today(), self.clock.now()
        day = body.date_from or today
        if body.date_to is not None and body.date_to < day:
            raise Invalid("to is before from", {"from": day, "to": body.date_to})

        def assign(conn):
            row = visibility.contract(conn, caller, contract_id, lock=True)
            plan = self.plan(conn, body.tariff_id)
            if not plan["enabled"]:
                raise Conflict("the tariff plan is disabled", {"tariff_id": body.tariff_id})
            if day < row.date_from:
                raise Invalid("the contract begins later", {"from": day,
                                                            "contract_from": row.date_from})
            ledger.check_open(caller, day, money_store.closed_through(conn))
            latest = store.latest_period(conn, contract_id)
            if latest is not None and latest.date_from >= day:
                raise Conflict("a tariff period begins on or after that day; drop it first",
                               {"period_id": latest.id, "from": latest.date_from})
            if latest is not None and (latest.date_to is None or latest.date_to >= day):
                store.end_period(conn, latest.id, day - timedelta(days=1))
            period_id = store.insert_period(conn, {
                "contract_id": contract_id, "tariff_id": body.tariff_id, "date_from": day,
                "date_to": body.date_to, "comment": body.comment, "created_at": now,
                **caller.actor()})
            view = {"id": period_id, "tariff_id": body.tariff_id, "tariff_title": plan["title"],
                    "from": day, "to": body.date_to, "comment": body.comment}
            audit.record(conn, caller, "contract.tariff", "contract_tariff", period_id, now=now,
                         before=None if latest is None else {
                             "period_id": latest.id, "tariff_id": latest.tariff_id,
                             "from": latest.date_from, "to": latest.date_to},
                         after=view, contract_id=contract_id)
            emit(conn, "tariff.changed", {"period_id": period_id, "tariff_id": body.tariff_id,
                                          "from": day}, occurred_at=now, contract_id=contract_id)
            return view

        return await self.database.run("assign_tariff", assign)

    async def drop(self, caller: Caller, contract_id: int, period_id: int) -> None:
        """Drop a period that has not begun; the one before it is open-ended again."""
        today, now = self.clock.today(), self.clock.now()

        def drop(conn):
            visibility.contract(conn, caller, contract_id, lock=True)
            period = store.get_period(conn, contract_id, period_id)
            if period is None:
                raise NotFound("no such tariff period", {"period_id": period_id})
            if period.date_from <= today:
                raise Conflict("the period has begun: assign another tariff instead")
            store.delete_period(conn, period_id)
            previous = store.in_force(conn, contract_id, period.date_from - timedelta(days=1))
            if previous is not None and previous.date_to == period.date_from - timedelta(days=1):
                store.end_period(conn, previous.id, None)
            audit.record(conn, caller, "contract.tariff_drop", "contract_tariff", period_id,
                         now=now, before={"tariff_id": period.tariff_id,
                                          "from": period.date_from, "to": period.date_to},
                         contract_id=contract_id)
            emit(conn, "tariff.changed", {"period_id": period_id, "dropped": True},
                 occurred_at=now, contract_id=contract_id)

        await self.database.run("drop_tariff_period", drop)
