"""Orders of one-time services: N units priced from the tariff in force that day, booked
as one charge; a cancelled order gives its money back as a refund charge."""

from __future__ import annotations

from datetime import date
from typing import Any

from bgserver.billing import audit, ledger, movements, visibility
from bgserver.billing.access import Caller
from bgserver.billing.errors import Conflict, Invalid, NotFound
from bgserver.billing.paging import page, page_size
from bgserver.modules.rscm import store
from bgserver.modules.rscm.config import RscmInstance, RscmTariff
from bgserver.storage import modules as module_store
from bgserver.storage import money as money_store
from bgserver.storage import tariffs as tariff_store
from bgshared.api.models import OrderCancel, OrderCreate


def _field(name: str, message: str) -> Invalid:
    return Invalid(message, [{"field": name, "message": message}])


def price_on(conn, contract_id: int, module_id: int, service_id: int, day: date):
    """The unit price of the service in the contract's tariff on ``day`` (and the price
    entry itself), or a conflict saying why there is none."""
    period = tariff_store.in_force(conn, contract_id, day)
    if period is None:
        raise Conflict(f"the contract has no tariff on {day}", {"date": day})
    config = tariff_store.module_config(conn, period.tariff_id, module_id)
    prices = {p.service_id: p for p in RscmTariff.model_validate(config or {}).prices}
    if service_id not in prices:
        raise Conflict("the contract's tariff has no price for this service",
                       {"tariff_id": period.tariff_id, "service_id": service_id})
    return prices[service_id]


class OrderService:
    def __init__(self, database: Any, clock: Any):
        self.database = database
        self.clock = clock

    @staticmethod
    def _instance(conn, module_id: int) -> RscmInstance:
        instance = module_store.get_instance(conn, module_id)
        if instance is None or instance["type"] != "rscm":
            raise _field("module_id", "no such module instance of one-time services")
        if not instance["enabled"]:
            raise Conflict("the module instance is disabled", {"module_id": module_id})
        return RscmInstance.model_validate(instance["config"])

    async def order(self, caller: Caller, contract_id: int, body: OrderCreate) -> dict[str, Any]:
        today, now = self.clock.today(), self.clock.now()
        day = body.date or today
        if day > today:
            raise _field("date", "the date is in the future")

        def order(conn):
            contract = visibility.contract(conn, caller, contract_id, lock=True)
            settings = self._instance(conn, body.module_id)
            service = module_store.get_service(conn, body.module_id, body.service_id)
            if service is None or not service["enabled"]:
                raise _field("service_id", "no such service of this module instance")
            ledger.check_started(contract, day)
            ledger.check_open(caller, day, money_store.closed_through(conn))
            price = price_on(conn, contract_id, body.module_id, body.service_id, day).price
            amount = price * body.quantity
            if body.check_balance:
                limit = ledger.limit_of(conn, contract, today)
                if contract.balance - amount < limit:
                    raise Conflict("the balance cannot carry this order", {
                        "balance": contract.balance, "amount": amount, "limit": limit})
            charged = movements.record(conn, "charge", [movements.NewMovement(caller, contract, {
                "amount": amount, "date": day, "type_id": settings.charge_type_id,
                "module_id": body.module_id, "service_id": body.service_id,
                "comment": body.comment or f"{service['title']} × {body.quantity}"})],
                today, now)[0]
            values = {"module_id": body.module_id, "contract_id": contract_id,
                      "service_id": body.service_id, "quantity": body.quantity, "price": price,
                      "amount": amount, "date": day, "comment": body.comment,
                      "charge_id": charged.movement["id"], "created_at": now, **caller.actor()}
            order_id = store.insert_order(conn, values)
            view = store.get_order(conn, contract_id, order_id)
            audit.record(conn, caller, "order.create", "order", order_id, now=now, after=view,
                         contract_id=contract_id)
            return {**view, "balance": charged.balance}

        return await self.database.run("create_order", order)

    async def list(self, caller: Caller, contract_id: int, cursor: int | None,
                   limit: int) -> dict[str, Any]:
        size = page_size(limit)

        def read(conn):
            visibility.contract(conn, caller, contract_id)
            return store.list_orders(conn, contract_id, cursor, size + 1)

        return page(await self.database.run("list_orders", read, readonly=True), size)

    async def cancel(self, caller: Caller, contract_id: int, order_id: int,
                     body: OrderCancel) -> dict[str, Any]:
        """The order stays, marked; its amount comes back today as a refund charge."""
        today, now = self.clock.today(), self.clock.now()

        def cancel(conn):
            contract = visibility.contract(conn, caller, contract_id, lock=True)
            before = store.get_order(conn, contract_id, order_id)
            if before is None:
                raise NotFound("no such order")
            if before["cancelled_at"] is not None:
                raise Conflict("the order is cancelled already")
            settings = RscmInstance.model_validate(
                module_store.get_instance(conn, before["module_id"])["config"])
            ledger.check_open(caller, today, money_store.closed_through(conn))
            refund = movements.record(conn, "charge", [movements.NewMovement(caller, contract, {
                "amount": -before["amount"], "date": today, "type_id": settings.refund_type_id,
                "module_id": before["module_id"], "service_id": before["service_id"],
                "comment": f"order {order_id} cancelled: {body.reason}"})], today, now)[0]
            store.mark_cancelled(conn, order_id, now, caller.actor("cancelled_by_"),
                                 body.reason, refund.movement["id"])
            after = store.get_order(conn, contract_id, order_id)
            audit.record(conn, caller, "order.cancel", "order", order_id, now=now,
                         before=before, after=after, contract_id=contract_id)
            return {**after, "balance": refund.balance}

        return await self.database.run("cancel_order", cancel)
