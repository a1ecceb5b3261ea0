"""The contract card's accounts tab: its logins on module instances (inet: the RADIUS
User-Name with password, IP, MAC; voice: a phone number), ended ones too. An operator
gives one from a day and ends one on a day; the server refuses a login another contract
holds on those days."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.widget import Widget
from textual.widgets import Input, Select

from bgshared.api.views import Account, Contract
from bgshared.client import ClientError
from bgtui.app import Abandoned
from bgtui.i18n import day, t
from bgtui.screens.contract import CardPane, ContractScreen
from bgtui.screens.forms import FormScreen, Invalid, read_day
from bgtui.views import card_tab
from bgtui.widgets.paged_table import FilteredTable, PagedTable

#: The module types whose instances hold accounts.
ACCOUNT_TYPES = ("inet", "voice")


async def account_modules(app: Any) -> dict[int, Any]:
    """Instances of module types with accounts, by id; read once a session."""
    cache = app.__dict__.setdefault("directory_cache", {})
    if "account-modules" not in cache:
        cache["account-modules"] = {m.id: m for m in (await app.api(app.client.modules)).items
                                    if m.type in ACCOUNT_TYPES}
    return cache["account-modules"]


@card_tab("accounts", "tab.accounts", None, order=20)
class AccountsPane(CardPane):
    ACTIONS = [("l", "add", "card.add_account", "contract.write"),
               ("z", "end", "card.end_account", "contract.write")]

    def __init__(self, card: ContractScreen):
        super().__init__(card)
        self.modules: dict[int, Any] = {}
        self.table = PagedTable([("col.module", 16), ("col.login", 18), ("col.from", 10),
                                 ("col.to", 10), ("col.address", 20)], id="accounts-table")

    def compose(self) -> Any:
        yield FilteredTable(self.table)

    def on_mount(self) -> None:
        self.start()

    @work(group="accounts-start")
    async def start(self) -> None:
        try:
            self.modules = await account_modules(self.app)
        except (ClientError, Abandoned) as exc:
            self.app.complain(exc)
        if not self.is_attached:
            return

        async def load(cursor: str | None) -> Any:
            return await self.app.api(self.app.client.accounts, self.contract_id)

        self.table.set_source(load, self.row)

    def row(self, account: Account) -> list[Any]:
        module = self.modules.get(account.module_id)
        ended = account.date_to is not None and account.date_to < self.app.today()
        login = Text(account.login, style="dim strike" if ended else "bold")
        address = " ".join(part for part in (account.ip, account.mac) if part)
        return [module.title if module else str(account.module_id), login,
                day(account.date_from), day(account.date_to) if account.date_to else "",
                address]

    def reload(self) -> None:
        if self.table._load is not None:
            self.table.reload(keep_cursor=True)

    def add(self) -> None:
        if self.card.contract is not None:
            self.app.push_screen(AccountForm(self.card.contract, self.modules), self._changed)

    def end(self) -> None:
        account = self.table.item_at_cursor()
        if account is not None and self.card.contract is not None:
            self.app.push_screen(EndAccountForm(self.card.contract, account), self._changed)

    def _changed(self, account: Account | None) -> None:
        if account is not None:
            self.notify(t("form.saved"))
            self.reload()


class AccountForm(FormScreen):
    """A login (with password, IP, MAC for inet) or a phone number, from a day."""

    title_key = "form.account"

    def __init__(self, contract: Contract, modules: dict[int, Any]):
        super().__init__()
        self.contract = contract
        self.modules = modules

    def title_values(self) -> dict[str, Any]:
        return {"number": self.contract.number}

    def fields(self) -> list[tuple[str, str, Widget]]:
        options = [(f"{m.title} ({m.type})", m.id) for m in self.modules.values() if m.enabled]
        return [("module_id", "field.module", Select(options, prompt=t("form.choose"))),
                ("login", "field.account_login", Input()),
                ("password", "field.password", Input(password=True)),
                ("ip", "field.ip", Input()),
                ("mac", "field.mac", Input(placeholder="00:11:22:33:44:55")),
                ("from", "field.from", Input(value=day(self.app.today())))]

    def read(self) -> dict[str, Any]:
        module_id = self.value("module_id")
        if module_id is None:
            raise Invalid("module_id", t("form.required"))
        login = self.value("login").strip()
        if not login:
            raise Invalid("login", t("form.required"))
        return {"module_id": module_id, "login": login,
                "date_from": read_day(self.value("from"), "from"),
                "password": self.value("password") or None,
                "ip": self.value("ip").strip() or None,
                "mac": self.value("mac").strip() or None}

    async def send(self, request: dict[str, Any]) -> Any:
        return await self.app.api(self.app.client.create_account, self.contract.id, **request)


class EndAccountForm(FormScreen):
    """The last day the contract holds the login; from the next another may take it."""

    title_key = "form.end_account"

    def __init__(self, contract: Contract, account: Account):
        super().__init__()
        self.contract = contract
        self.account = account

    def title_values(self) -> dict[str, Any]:
        return {"login": self.account.login}

    def fields(self) -> list[tuple[str, str, Widget]]:
        return [("to", "field.last_day", Input(value=day(self.app.today())))]

    def read(self) -> Any:
        return read_day(self.value("to"), "to", required=True)

    async def send(self, last_day: Any) -> Any:
        return await self.app.api(self.app.client.update_account, self.contract.id,
                                  self.account.module_id, self.account.id, {"to": last_day})
