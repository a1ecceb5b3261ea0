"""Payments, charges, balances, money directories, periods and temporary limits."""

from __future__ import annotations

from datetime import date
from typing import Any

from bgserver.api.routing import Api, Reply, parse_day
from bgshared.api.models import MovementCreate, MovementTypeCreate, PaymentDelete, TemporaryLimit

CONTRACT = "/api/v1/contracts/<int:contract_id>"


def _month(raw: str | None) -> date | None:
    return parse_day("month", raw, "YYYY-MM")


def _movement_routes(api: Api, s: Any, kind: str, create_permission: str) -> None:
    """The same four routes for payments and charges."""
    plural = f"{kind}s"

    @api.route("GET", f"{CONTRACT}/{plural}", "contract.read", f"The contract's {plural}",
               query={"from": "YYYY-MM-DD", "to": "YYYY-MM-DD", "cursor": "", "limit": ""})
    async def list_movements(call):
        return await s.money.list(call.caller, call.params["contract_id"], kind,
                                  call.query_date("from"), call.query_date("to"),
                                  call.query_int("cursor"), call.query_int("limit", 100),
                                  with_deleted=call.query("deleted") == "true")

    @api.route("POST", f"{CONTRACT}/{plural}", create_permission,
               f"Book a {kind}; header Idempotency-Key makes retries safe", body=MovementCreate)
    async def create_movement(call):
        created, new = await s.money.post(call.caller, call.params["contract_id"], kind,
                                          call.body, call.header("Idempotency-Key"))
        return Reply(created, 201, {} if new else {"Idempotent-Replayed": "true"})

    @api.route("GET", f"/api/v1/{kind}-types", "contract.read", f"The {kind} types")
    async def list_types(call):
        return {"items": await s.money.types(kind), "next_cursor": None}

    @api.route("POST", f"/api/v1/{kind}-types", "directory.write", f"Add a {kind} type",
               body=MovementTypeCreate)
    async def create_type(call):
        return Reply(await s.money.create_type(call.caller, kind, call.body), 201)


def register(api: Api, s: Any) -> None:
    _movement_routes(api, s, "payment", "payment.create")
    _movement_routes(api, s, "charge", "charge.create")

    @api.route("DELETE", f"{CONTRACT}/payments/<int:payment_id>", "payment.delete",
               "Delete a payment (kept, marked with who and why)", body=PaymentDelete)
    async def delete_payment(call):
        return await s.money.delete_payment(call.caller, call.params["contract_id"],
                                            call.params["payment_id"], call.body)

    @api.route("GET", f"{CONTRACT}/balance", "contract.read",
               "The month's incoming, payments, charges, usage and outgoing",
               query={"month": "YYYY-MM (default: this month)"})
    async def balance(call):
        return await s.money.balance(call.caller, call.params["contract_id"],
                                     _month(call.query("month")))

    @api.route("PUT", f"{CONTRACT}/temporary-limit", "contract.write",
               "A promised payment: another limit until a day", body=TemporaryLimit)
    async def temporary_limit(call):
        return await s.money.set_temporary_limit(call.caller, call.params["contract_id"],
                                                 call.body)

    @api.route("GET", "/api/v1/periods", "report.read", "Closed months")
    async def periods(call):
        return {"items": await s.money.periods(), "next_cursor": None}

    @api.route("POST", "/api/v1/periods/<month>/close", "period.close",
               "Close a month (and those before it) to back-dated movements")
    async def close_period(call):
        return await s.money.close_period(call.caller, _month(call.params["month"]))
