"""The contract card: tabs for everything about one contract, kept live by the events of
the bus (see ``bgtui.live``).

Besides its own tabs the card shows those that areas register with
``bgtui.views.card_tab``: the tariff periods here, a module type's from its own file
(``bgtui/screens/rscm.py``: orders). The inet accounts and sessions, the voice numbers
and calls come the same way with their module types: a :class:`CardPane` each.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.containers import Grid, Vertical, VerticalScroll
from textual.widgets import (DataTable, Footer, Header, Label, Sparkline, Static,
                             TabbedContent, TabPane)

from bgshared.api.views import Contract, Event, Movement, ParamValue
from bgtui.app import Abandoned
from bgtui.i18n import day, moment, money, month, status, t
from bgtui.screens.base import BgScreen
from bgtui.views import CARD_TABS, card_tab
from bgtui.widgets.paged_table import FilteredTable, PagedTable, amount_cell

OVERVIEW = ["number", "title", "balance", "limit", "temporary_limit", "status", "tariff",
            "mode", "groups", "date_from", "comment"]
#: Events closer together than this refresh the card once.
LIVE_SETTLE_SECONDS = 0.1


def months_back(today: dt.date, count: int) -> list[str]:
    """``YYYY-MM`` of the last ``count`` months, oldest first, this one last."""
    year, number = today.year, today.month
    months = []
    for _ in range(count):
        months.append(f"{year:04d}-{number:02d}")
        number -= 1
        if number == 0:
            year, number = year - 1, 12
    return months[::-1]


class CardPane(Vertical):
    """The content of a card tab that an area adds (``bgtui.views.card_tab``).

    ``ACTIONS`` are its keys, bound on the whole card (pressing one shows the tab):
    ``(key, method name, description key, permission)``; like the card's own they are
    not offered without the permission, nor in read-only mode."""

    ACTIONS: ClassVar[list[tuple[str, str, str, str | None]]] = []

    def __init__(self, card: "ContractScreen", **kwargs: Any):
        super().__init__(**kwargs)
        self.card = card

    @property
    def contract_id(self) -> int:
        return self.card.contract_id

    def reload(self) -> None:
        """The contract changed (loaded again, or an event came): show it anew."""


class ListPane(CardPane):
    """A card tab that is one paged list of the contract's records (sessions, calls):
    ``columns``, ``fetch(cursor)`` and ``row(item)`` per tab."""

    columns: ClassVar[list[tuple[str, int | None]]] = []
    table_id: ClassVar[str] = ""

    def __init__(self, card: "ContractScreen", **kwargs: Any):
        super().__init__(card, **kwargs)
        self.table = PagedTable(self.columns, id=self.table_id)

    def compose(self) -> ComposeResult:
        yield FilteredTable(self.table)

    def on_mount(self) -> None:
        self.table.set_source(self.fetch, self.row)

    async def fetch(self, cursor: str | None) -> Any:
        raise NotImplementedError

    def row(self, item: Any) -> list[Any]:
        raise NotImplementedError

    def reload(self) -> None:
        self.table.reload(keep_cursor=True)


class ContractScreen(BgScreen):
    BINDINGS = [
        Binding("p", "add_payment", "card.add_payment"),
        Binding("c", "add_charge", "card.add_charge"),
        Binding("s", "change_status", "card.change_status"),
        Binding("e", "edit_param", "card.edit_param"),
        Binding("delete,d", "delete_payment", "card.delete_payment"),
        Binding("r", "refresh", "card.refresh", show=False),
        Binding("w", "cabinet_password", "card.cabinet_password", show=False),
    ]
    PERMISSIONS = {"add_payment": "payment.create", "add_charge": "charge.create",
                   "change_status": "contract.write", "edit_param": "contract.write",
                   "delete_payment": "payment.delete", "cabinet_password": "contract.write"}

    def __init__(self, contract_id: int):
        super().__init__()
        self.contract_id = contract_id
        self.contract: Contract | None = None
        self.definitions: list[Any] = []
        self.values: dict[str, ParamValue] = {}
        self._unsubscribe: Any = None
        self._live_timer: Any = None
        self.card_tabs = sorted((tab for tab in CARD_TABS.values()
                            if self.app.can(tab.permission, change=False)),
                           key=lambda tab: tab.order)
        for tab in self.card_tabs:
            for key, method, description, _ in tab.make.ACTIONS:
                self._bindings.bind(key, f"tab_action('{tab.id}', '{method}')",
                                    t(description), show=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "tab_action":
            tab_id, method = parameters
            permission = next((p for tab in self.card_tabs if tab.id == tab_id
                               for _, m, _, p in tab.make.ACTIONS if m == method), "never")
            return self.app.can(permission)
        return super().check_action(action, parameters)

    def action_tab_action(self, tab_id: str, method: str) -> None:
        """A pane's key: show its tab, then do it there."""
        if self.contract is None:
            return
        self.query_one(TabbedContent).active = tab_id
        getattr(self.query_one(f"#{tab_id} CardPane", CardPane), method)()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="card-head")
        with TabbedContent(id="card-tabs"):
            with TabPane(t("tab.overview"), id="overview"):
                with VerticalScroll():
                    with Grid(id="overview-grid"):
                        for key in OVERVIEW:
                            yield Label(t(f"field.{key}"), classes="field-name")
                            yield Static("", id=f"ov-{key}", classes="field-value")
            with TabPane(t("tab.params"), id="params"):
                yield DataTable(id="params-table", cursor_type="row", zebra_stripes=True)
            with TabPane(t("tab.payments"), id="payments"):
                yield FilteredTable(PagedTable(
                    [("col.date", 10), ("col.amount", 12), ("col.type", 12),
                     ("col.comment", 20), ("col.author", 10)], id="payments-table"))
            with TabPane(t("tab.charges"), id="charges"):
                yield FilteredTable(PagedTable(
                    [("col.date", 10), ("col.amount", 12), ("col.type", 12),
                     ("col.comment", 20), ("col.author", 10)], id="charges-table"))
            with TabPane(t("tab.balance"), id="balance"):
                with Vertical():
                    yield Label(t("card.chart"), classes="hint")
                    yield Sparkline([], id="balance-chart")
                    yield DataTable(id="balance-table", cursor_type="row", zebra_stripes=True)
            with TabPane(t("tab.status"), id="status"):
                with Vertical():
                    yield Static("", id="status-now")
                    yield DataTable(id="status-table", cursor_type="row", zebra_stripes=True)
            for tab in self.card_tabs:
                with TabPane(t(tab.title), id=tab.id):
                    yield tab.make(self)
            if self.app.can("audit.read", change=False):
                with TabPane(t("tab.audit"), id="audit"):
                    yield FilteredTable(PagedTable(
                        [("col.when", 16), ("col.author", 10), ("col.action", 18),
                         ("col.object", 24)], id="audit-table"))
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#params-table", DataTable).add_columns(
            t("col.title"), t("col.value"), t("col.type"))
        self.query_one("#balance-table", DataTable).add_columns(
            t("col.month"), t("col.incoming"), t("col.payments"), t("col.charges"),
            t("col.usage"), t("col.outgoing"))
        self.query_one("#status-table", DataTable).add_columns(
            t("col.status"), t("col.from"), t("col.to"), t("col.comment"), t("col.author"))
        self._unsubscribe = self.app.live.subscribe(self._on_event)
        self.load_card()
        self.load_types()

    def on_unmount(self) -> None:
        if self._unsubscribe:
            self._unsubscribe()

    # -- loading -----------------------------------------------------------------------------

    async def cached(self, key: str, method: Any, *args: Any) -> Any:
        """Directories change rarely: one read per session (the app holds them)."""
        cache = self.app.__dict__.setdefault("directory_cache", {})
        if key not in cache:
            cache[key] = (await self.app.api(method, *args)).items
        return cache[key]

    @work(group="types")
    async def load_types(self) -> None:
        try:
            await self.cached("payment-types", self.app.client.movement_types, "payment")
            await self.cached("charge-types", self.app.client.movement_types, "charge")
            await self.cached("groups", self.app.client.contract_groups)
        except Exception as exc:  # noqa: BLE001
            self.app.complain(exc)

    @work(exclusive=True, group="card")
    async def load_card(self) -> None:
        try:
            await self._load_card()
        except NoMatches:  # the card closed while its answer was on the way
            pass

    async def _load_card(self) -> None:
        """The contract, its statuses and the tabs' contents, all again (a change came)."""
        api, client = self.app.api, self.app.client
        try:
            contract, statuses = await asyncio.gather(
                api(client.contract, self.contract_id), api(client.statuses, self.contract_id))
        except Exception as exc:  # noqa: BLE001
            self.app.complain(exc)
            return
        if not self.is_attached:
            return
        self.contract = contract
        await self.show_overview(contract, statuses.items)
        if not self.is_attached:
            return
        self.show_statuses(statuses.items)
        if self.contract_id and not self.query_one("#payments-table", PagedTable).items:
            self.start_lists()
        else:
            self.reload_lists()
        self.load_params()
        self.load_balance()
        for pane in self.query(CardPane):
            pane.reload()

    def show_tariff(self, current: Any) -> None:
        """The tariff in force today on the overview (the tariffs pane knows it)."""
        self.query_one("#ov-tariff", Static).update(
            current.tariff_title if current is not None else t("none"))

    async def show_overview(self, contract: Contract, statuses: list[Any]) -> None:
        current = next((s for s in reversed(statuses) if s.applied and s.date_to is None),
                       None)
        reason = current.reason if current and current.status == contract.status else None
        try:
            groups = await self.cached("groups", self.app.client.contract_groups)
        except Abandoned:
            groups = []
        titles = {g.id: g.title for g in groups}
        temporary = contract.temporary_limit
        values = {
            "number": contract.number, "title": contract.title,
            "balance": Text(money(contract.balance),
                            style="bold red" if contract.balance < 0 else "bold"),
            "limit": money(contract.limit),
            "temporary_limit": t("temporary_limit.value", limit=money(temporary.limit),
                                 until=day(temporary.until)) if temporary else t("none"),
            "status": status(contract.status, reason),
            "mode": t(f"mode.{contract.mode}"),
            "groups": ", ".join(titles.get(g, str(g)) for g in contract.groups) or t("none"),
            "date_from": day(contract.date_from),
            "comment": contract.comment or t("none"),
        }
        for key, value in values.items():
            self.query_one(f"#ov-{key}", Static).update(value)
        self.query_one("#card-head", Static).update(Text.assemble(
            (contract.number, "bold"), "  ", contract.title, "  ",
            (money(contract.balance), "bold red" if contract.balance < 0 else "bold green"),
            "  ", status(contract.status, reason)))
        self.sub_title = contract.number

    def show_statuses(self, statuses: list[Any]) -> None:
        table = self.query_one("#status-table", DataTable)
        table.clear()
        for period in reversed(statuses):
            if period.date_to is not None and period.date_to < period.date_from:
                continue  # replaced on its first day: never in force
            name = status(period.status, period.reason)
            if not period.applied:
                name += f" [{t('status.scheduled')}]"
            table.add_row(name, day(period.date_from), day(period.date_to), period.comment,
                          period.actor_name or "")
        if self.contract is not None:
            self.query_one("#status-now", Static).update(
                t("card.status_now", status=status(self.contract.status)))

    def start_lists(self) -> None:
        api, client = self.app.api, self.app.client
        for kind in ("payment", "charge"):
            table = self.query_one(f"#{kind}s-table", PagedTable)

            async def load(cursor: str | None, kind: str = kind) -> Any:
                return await api(client.movements, kind, self.contract_id, cursor, 100)

            table.set_source(load, lambda m, kind=kind: self.movement_row(kind, m))
        if self.query("#audit-table"):
            async def audit(cursor: str | None) -> Any:
                return await api(client.audit, self.contract_id, cursor, 100)

            self.query_one("#audit-table", PagedTable).set_source(audit, audit_row)

    def reload_lists(self) -> None:
        for table in self.query(PagedTable):
            table.reload(keep_cursor=True)

    def movement_row(self, kind: str, movement: Movement) -> list[Any]:
        cache = self.app.__dict__.get("directory_cache", {})
        types = {ty.id: ty.title for ty in cache.get(f"{kind}-types", [])}
        return [day(movement.date), amount_cell(money(movement.amount)),
                types.get(movement.type_id, str(movement.type_id or "")),
                movement.comment, movement.actor_name or ""]

    @work(exclusive=True, group="params")
    async def load_params(self) -> None:
        try:
            await self._load_params()
        except NoMatches:  # the card closed while its answer was on the way
            pass

    async def _load_params(self) -> None:
        try:
            definitions = await self.cached("params", self.app.client.param_definitions)
            values = await self.app.api(self.app.client.params, self.contract_id)
        except Exception as exc:  # noqa: BLE001
            self.app.complain(exc)
            return
        if not self.is_attached:
            return
        self.definitions = definitions
        self.values = {v.key: v for v in values.items}
        table = self.query_one("#params-table", DataTable)
        row = table.cursor_row
        table.clear()
        for definition in definitions:
            value = self.values.get(definition.key)
            table.add_row(definition.title, param_text(value.value if value else None),
                          definition.type, key=definition.key)
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))

    @work(exclusive=True, group="balance")
    async def load_balance(self) -> None:
        try:
            await self._load_balance()
        except NoMatches:  # the card closed while its answer was on the way
            pass

    async def _load_balance(self) -> None:
        months = months_back(self.app.today(), 12)
        try:
            rows = await asyncio.gather(*(self.app.api(self.app.client.balance,
                                                       self.contract_id, m) for m in months))
        except Exception as exc:  # noqa: BLE001
            self.app.complain(exc)
            return
        if not self.is_attached:
            return
        table = self.query_one("#balance-table", DataTable)
        table.clear()
        for row in reversed(rows):
            table.add_row(month(row.month), *(amount_cell(money(getattr(row, f))) for f in
                          ("incoming", "payments", "charges", "usage", "outgoing")))
        # The chart: floats only for drawing, never for money.
        self.query_one("#balance-chart", Sparkline).data = [float(r.outgoing) for r in rows]

    # -- live -------------------------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        if event.contract_id != self.contract_id:
            return
        if self._live_timer is not None:
            self._live_timer.stop()
        self._live_timer = self.set_timer(LIVE_SETTLE_SECONDS, self.load_card)

    def action_refresh(self) -> None:
        self.load_card()

    # -- changes ------------------------------------------------------------------------------

    def _types(self, kind: str) -> list[Any]:
        return self.app.__dict__.get("directory_cache", {}).get(f"{kind}-types", [])

    def action_add_payment(self) -> None:
        self._add("payment")

    def action_add_charge(self) -> None:
        self._add("charge")

    def _add(self, kind: str) -> None:
        from bgtui.screens.forms import MovementForm  # noqa: PLC0415

        if self.contract is None:
            return
        self.query_one(TabbedContent).active = f"{kind}s"

        def done(movement: Movement | None) -> None:
            if movement is not None:
                self.notify(t(f"form.added_{kind}", amount=money(movement.amount)))
                self.load_card()

        self.app.push_screen(MovementForm(kind, self.contract, self._types(kind)), done)

    def action_delete_payment(self) -> None:
        from bgtui.screens.forms import DeletePaymentForm  # noqa: PLC0415

        tabs = self.query_one(TabbedContent)
        if tabs.active != "payments" or self.contract is None:
            tabs.active = "payments"
            return
        payment = self.query_one("#payments-table", PagedTable).item_at_cursor()
        if payment is None:
            return

        def done(deleted: Movement | None) -> None:
            if deleted is not None:
                self.notify(t("form.deleted"))
                self.load_card()

        self.app.push_screen(DeletePaymentForm(self.contract, payment), done)

    def action_change_status(self) -> None:
        from bgtui.screens.forms import StatusForm  # noqa: PLC0415

        if self.contract is None:
            return
        self.query_one(TabbedContent).active = "status"

        def done(changed: Any) -> None:
            if changed is not None:
                self.notify(t("form.status_changed", status=status(changed.status),
                              date=day(changed.date_from)))
                self.load_card()

        self.app.push_screen(StatusForm(self.contract), done)

    def action_cabinet_password(self) -> None:
        from bgtui.screens.forms import CabinetPasswordForm  # noqa: PLC0415

        if self.contract is None:
            return

        def done(contract: Contract | None) -> None:
            if contract is not None:
                self.notify(t("form.password_set"))

        self.app.push_screen(CabinetPasswordForm(self.contract), done)

    def action_edit_param(self) -> None:
        from bgtui.screens.forms import ParamForm  # noqa: PLC0415

        tabs = self.query_one(TabbedContent)
        table = self.query_one("#params-table", DataTable)
        if tabs.active != "params" or not table.row_count or self.contract is None:
            tabs.active = "params"
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        definition = next(d for d in self.definitions if d.key == key)

        def done(value: Any) -> None:
            if value is not None:
                self.load_params()

        self.app.push_screen(ParamForm(self.contract, definition, self.values.get(key)), done)

    @on(DataTable.RowSelected, "#params-table")
    def _param_selected(self) -> None:
        if self.offers("edit_param"):
            self.action_edit_param()


def param_text(value: Any) -> str:
    if value is None:
        return t("none")
    if isinstance(value, bool):
        return t("flag.yes") if value else t("flag.no")
    if isinstance(value, dict):
        return ", ".join(str(v) for v in value.values() if v)
    return str(value)


def audit_row(entry: Any) -> list[Any]:
    return [moment(entry.at), entry.actor_name or entry.actor_type or "", entry.action,
            f"{entry.object_type or ''} {entry.object_id or ''}".strip()]



@card_tab("tariffs", "tab.tariffs", None, order=10)
class TariffsPane(CardPane):
    """The contract's tariff periods, newest first: assign a plan from a day, drop a
    period that has not begun."""

    ACTIONS = [("t", "assign", "card.assign_tariff", "tariff.write"),
               ("x", "drop", "card.drop_tariff", "tariff.write")]

    def __init__(self, card: ContractScreen):
        super().__init__(card)
        self.periods: list[Any] = []

    def compose(self) -> ComposeResult:
        yield DataTable(id="tariffs-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns(t("col.tariff"), t("col.from"), t("col.to"),
                                              t("col.comment"), t("col.author"))

    def reload(self) -> None:
        self.load()

    @work(exclusive=True, group="tariff-periods")
    async def load(self) -> None:
        try:
            await self._load()
        except NoMatches:  # the card closed while its answer was on the way
            pass

    async def _load(self) -> None:
        try:
            periods = await self.app.api(self.app.client.contract_tariffs, self.contract_id)
        except Exception as exc:  # noqa: BLE001
            self.app.complain(exc)
            return
        if not self.is_attached:
            return
        today = self.app.today()
        self.periods = sorted(periods.items, key=lambda p: p.date_from, reverse=True)
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        for period in self.periods:
            title = period.tariff_title
            if period.date_from > today:
                title += f" [{t('status.scheduled')}]"
            table.add_row(title, day(period.date_from), day(period.date_to), period.comment,
                          period.actor_name or "", key=str(period.id))
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))
        self.card.show_tariff(next((p for p in self.periods if p.date_from <= today and (
            p.date_to is None or p.date_to >= today)), None))

    def assign(self) -> None:
        from bgtui.screens.forms import TariffAssignForm  # noqa: PLC0415

        self.app.push_screen(TariffAssignForm(self.card.contract), self._changed)

    def drop(self) -> None:
        from bgtui.screens.forms import ConfirmForm  # noqa: PLC0415

        table = self.query_one(DataTable)
        if not table.row_count:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        period = next(p for p in self.periods if str(p.id) == key)
        if period.date_from <= self.app.today():
            self.notify(t("card.tariff_begun"), severity="warning")
            return

        async def send() -> Any:
            await self.app.api(self.app.client.drop_tariff, self.contract_id, period.id)
            return period

        self.app.push_screen(ConfirmForm("form.drop_tariff", send, title=period.tariff_title,
                                         date=day(period.date_from)), self._changed)

    def _changed(self, answer: Any) -> None:
        if answer is not None:
            self.card.load_card()
