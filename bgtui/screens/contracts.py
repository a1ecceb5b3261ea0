"""The contract list: the home view, searched as the operator types."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Header, Input, Static

from bgshared.api.views import Contract, Event
from bgtui.i18n import money, status, t
from bgtui.screens.base import BgScreen
from bgtui.views import register
from bgtui.widgets.paged_table import FilteredTable, PagedTable

#: Wait this long after the last keystroke before asking the server.
DEBOUNCE_SECONDS = 0.15
PAGE = 50


def contract_row(contract: Contract) -> list[Any]:
    return [contract.number, contract.title, status(contract.status),
            Text(money(contract.balance), justify="right",
                 style="red" if contract.balance < 0 else "")]


class SearchInput(Input):
    """The search field; ``:`` and ``?`` typed into it while empty do what they do
    everywhere else (the command line, the keys), as nobody searches for them."""

    async def _on_key(self, event: Any) -> None:
        if not self.value and event.character in (":", "?"):
            event.stop()
            event.prevent_default()
            if event.character == ":":
                self.app.action_command_line()
            else:
                self.app.action_help()
            return
        await super()._on_key(event)


@register("contracts", "view.contracts", "contract.read")
class ContractsScreen(BgScreen):
    BINDINGS = [Binding("ctrl+n", "new_contract", "contracts.new"),
                Binding("f2", "new_contract", "contracts.new", show=False)]
    PERMISSIONS = {"new_contract": "contract.write"}

    def __init__(self) -> None:
        super().__init__()
        self.query_text = ""
        self._debounce: Any = None
        #: Enter came while the list still answered an older text: open on arrival.
        self._open_on_load = False
        self._unsubscribe: Any = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield SearchInput(id="search", placeholder=t("contracts.search"))
        self.table = PagedTable([("col.number", 12), ("col.title", 34), ("col.status", 14),
                                 ("col.balance", 13)], id="contracts")
        yield FilteredTable(self.table)
        yield Static("", id="contracts-count", classes="hint")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = t("view.contracts")
        self.query_one("#search", Input).focus()
        self.table.set_source(self._load, contract_row)
        self._unsubscribe = self.app.live.subscribe(self._on_event)

    def on_unmount(self) -> None:
        if self._unsubscribe:
            self._unsubscribe()

    def on_resize(self) -> None:
        # The title takes the room of a wide terminal.
        column = self.table.columns.get("col.title")
        if column is not None:
            column.width = max(16, self.size.width - 12 - 14 - 13 - 12)
            self.table.refresh()

    async def _load(self, cursor: str | None):
        return await self.app.api(self.app.client.contracts, self.query_text, cursor, PAGE)

    # -- typing and opening ----------------------------------------------------------------

    @on(Input.Changed, "#search")
    def _typed(self, event: Input.Changed) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(DEBOUNCE_SECONDS, lambda: self._search(event.value))

    def _search(self, text: str) -> None:
        self._debounce = None
        if text.strip() != self.query_text:
            self.query_text = text.strip()
            self.table.reload()

    @on(Input.Submitted, "#search")
    def _enter(self, event: Input.Submitted) -> None:
        if self._debounce is not None:  # typed faster than the debounce: search now
            self._debounce.stop()
            self._search(event.value)
        if self.table.loading_more or self.query_text != event.value.strip():
            self._open_on_load = True
        else:
            self.open_highlighted()

    @on(PagedTable.Loaded, "#contracts")
    def _loaded(self, event: PagedTable.Loaded) -> None:
        count = len(self.table.items)
        self.query_one("#contracts-count", Static).update(
            t("contracts.none") if not count else
            t("contracts.count" if self.table.exhausted else "contracts.more", count=count))
        if event.first and self._open_on_load:
            self._open_on_load = False
            self.open_highlighted()

    def on_key(self, event: Any) -> None:
        search = self.query_one("#search", Input)
        if event.key == "down" and search.has_focus:
            self.table.focus()
            event.stop()
        elif event.key == "up" and self.table.has_focus and self.table.cursor_row == 0:
            search.focus()
            event.stop()

    @on(PagedTable.RowSelected, "#contracts")
    def _selected(self) -> None:
        self.open_highlighted()

    def open_highlighted(self) -> None:
        contract = self.table.item_at_cursor()
        if contract is not None:
            self.open_contract(contract.id)

    def open_contract(self, contract_id: int) -> None:
        from bgtui.screens.contract import ContractScreen  # noqa: PLC0415

        self.app.push_screen(ContractScreen(contract_id))

    def action_new_contract(self) -> None:
        from bgtui.screens.forms import NewContractForm  # noqa: PLC0415

        self.app.push_screen(NewContractForm(), self._created)

    def _created(self, contract: Contract | None) -> None:
        if contract is not None:
            self.table.reload(keep_cursor=True)
            self.open_contract(contract.id)

    # -- live --------------------------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        if event.contract_id is not None and any(
                c.id == event.contract_id for c in self.table.items):
            self.refresh_row(event.contract_id)

    @work(group="live-row")
    async def refresh_row(self, contract_id: int) -> None:
        try:
            contract = await self.app.api(self.app.client.contract, contract_id)
        except Exception:  # noqa: BLE001 - a row that cannot refresh keeps its old look
            return
        self.table.replace_item(contract)
