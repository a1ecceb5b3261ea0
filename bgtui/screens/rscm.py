"""rscm, one-time services: the contract card's orders tab (order N units of a service
priced from the tariff of the day; cancel an order, its amount refunded)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Select

from bgshared.api.views import Contract, Order
from bgshared.client import ClientError
from bgtui.app import Abandoned
from bgtui.i18n import day, money, t
from bgtui.screens.contract import CardPane, ContractScreen
from bgtui.screens.forms import FormScreen, Invalid, read_day
from bgtui.views import card_tab
from bgtui.widgets.paged_table import FilteredTable, PagedTable, amount_cell

MODULE_TYPE = "rscm"


async def rscm_services(app: Any) -> dict[tuple[int, int], Any]:
    """The services of every rscm instance, by (module id, service id); read once a
    session (the app keeps directories)."""
    cache = app.__dict__.setdefault("directory_cache", {})
    if "rscm-services" not in cache:
        modules = (await app.api(app.client.modules)).items
        found: dict[tuple[int, int], Any] = {}
        for module in modules:
            if module.type == MODULE_TYPE:
                for service in (await app.api(app.client.services, module.id)).items:
                    found[(module.id, service.id)] = (module, service)
        cache["rscm-services"] = found
    return cache["rscm-services"]


@card_tab("orders", "tab.orders", None, order=60)
class OrdersPane(CardPane):
    ACTIONS = [("o", "order", "card.new_order", "charge.create"),
               ("k", "cancel", "card.cancel_order", "charge.create")]

    def __init__(self, card: ContractScreen):
        super().__init__(card)
        self.services: dict[tuple[int, int], Any] = {}
        self.table = PagedTable([("col.date", 10), ("col.service", 18), ("col.quantity", 5),
                                 ("col.amount", 11), ("col.comment", 14),
                                 ("col.cancelled", 10)], id="orders-table")

    def compose(self) -> ComposeResult:
        yield FilteredTable(self.table)

    def on_mount(self) -> None:
        self.start()

    @work(group="orders-start")
    async def start(self) -> None:
        try:
            self.services = await rscm_services(self.app)
        except (ClientError, Abandoned) as exc:
            self.app.complain(exc)
        if not self.is_attached:
            return

        async def load(cursor: str | None) -> Any:
            return await self.app.api(self.app.client.orders, self.contract_id, cursor, 100)

        self.table.set_source(load, self.row)

    def row(self, order: Order) -> list[Any]:
        found = self.services.get((order.module_id, order.service_id))
        service = found[1].title if found else str(order.service_id)
        cancelled = Text(day(order.cancelled_at.date()), style="red") \
            if order.cancelled_at else ""
        return [day(order.date), service, str(order.quantity), amount_cell(money(order.amount)),
                order.comment, cancelled]

    def reload(self) -> None:
        if self.table._load is not None:
            self.table.reload(keep_cursor=True)

    def order(self) -> None:
        self.app.push_screen(OrderForm(self.card.contract, self.services), self._changed)

    def cancel(self) -> None:
        order = self.table.item_at_cursor()
        if order is None or order.cancelled_at is not None:
            return
        self.app.push_screen(CancelOrderForm(self.card.contract, order), self._changed)

    def _changed(self, order: Order | None) -> None:
        if order is not None:
            self.notify(t("form.ordered" if order.cancelled_at is None else "form.cancelled",
                          amount=money(order.amount)))
            self.card.load_card()


class OrderForm(FormScreen):
    """N units of a service; its price comes from the contract's tariff on that day."""

    title_key = "form.order"

    def __init__(self, contract: Contract, services: dict[tuple[int, int], Any]):
        super().__init__()
        self.contract = contract
        self.services = services

    def title_values(self) -> dict[str, Any]:
        return {"number": self.contract.number}

    def fields(self) -> list[tuple[str, str, Widget]]:
        options = [(f"{service.title} ({module.title})", f"{mid}:{sid}")
                   for (mid, sid), (module, service) in self.services.items()
                   if service.enabled and module.enabled]
        return [("service_id", "field.service", Select(options, prompt=t("form.choose"))),
                ("quantity", "field.quantity", Input(value="1", type="integer")),
                ("date", "field.date", Input(value=day(self.app.today()))),
                ("comment", "field.comment", Input()),
                ("check_balance", "field.check_balance",
                 Checkbox(t("field.check_balance"), value=True))]

    def read(self) -> dict[str, Any]:
        chosen = self.value("service_id")
        if chosen is None:
            raise Invalid("service_id", t("form.required"))
        module_id, service_id = (int(part) for part in chosen.split(":"))
        try:
            quantity = int(self.value("quantity"))
        except ValueError:
            raise Invalid("quantity", t("form.required")) from None
        return {"module_id": module_id, "service_id": service_id, "quantity": quantity,
                "day": read_day(self.value("date"), "date"),
                "comment": self.value("comment").strip(),
                "check_balance": bool(self.value("check_balance"))}

    async def send(self, request: dict[str, Any]) -> Any:
        return await self.app.api(self.app.client.create_order, self.contract.id, **request)


class CancelOrderForm(FormScreen):
    title_key = "form.cancel_order"

    def __init__(self, contract: Contract, order: Order):
        super().__init__()
        self.contract = contract
        self.order = order

    def title_values(self) -> dict[str, Any]:
        return {"amount": money(self.order.amount), "date": day(self.order.date)}

    def fields(self) -> list[tuple[str, str, Widget]]:
        return [("reason", "field.reason", Input())]

    def read(self) -> str:
        reason = self.value("reason").strip()
        if not reason:
            raise Invalid("reason", t("form.required"))
        return reason

    async def send(self, reason: str) -> Any:
        return await self.app.api(self.app.client.cancel_order, self.contract.id,
                                  self.order.id, reason)
