"""rscm's routes: a contract's orders of one-time services."""

from __future__ import annotations

from typing import Any

from bgserver.api.routing import Api, Reply
from bgserver.modules.rscm.orders import OrderService
from bgshared.api.models import OrderCancel, OrderCreate

ORDERS = "/api/v1/contracts/<int:contract_id>/orders"


def routes(api: Api, s: Any) -> None:
    orders = OrderService(s.database, s.clock)

    @api.route("GET", ORDERS, "contract.read", "The contract's orders of one-time services",
               query={"cursor": "next_cursor of the previous page", "limit": "at most 500"})
    async def list_orders(call):
        return await orders.list(call.caller, call.params["contract_id"],
                                 call.query_int("cursor"), call.query_int("limit", 100))

    @api.route("POST", ORDERS, "charge.create",
               "Order N units of a one-time service, priced from the tariff that day",
               body=OrderCreate)
    async def create_order(call):
        return Reply(await orders.order(call.caller, call.params["contract_id"], call.body), 201)

    @api.route("POST", f"{ORDERS}/<int:order_id>/cancel", "charge.create",
               "Cancel an order: its amount comes back as a refund charge", body=OrderCancel)
    async def cancel_order(call):
        return await orders.cancel(call.caller, call.params["contract_id"],
                                   call.params["order_id"], call.body)
