"""Directories: payment and charge types, contract groups, parameter definitions. One
screen class shows any such list; each view says what to load, how a row looks and how
to add one."""

from __future__ import annotations

from typing import Any, Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Checkbox, Footer, Header, Input, Select, Static
from textual.widget import Widget

from bgshared.api.models import PARAM_TYPES
from bgtui.i18n import t, yes_no
from bgtui.screens.base import BgScreen
from bgtui.views import register
from bgtui.widgets.paged_table import FilteredTable, PagedTable


class DirectoryScreen(BgScreen):
    """A list (paged, ``/`` filters) with an Add form where the operator may add."""

    BINDINGS = [Binding("a", "add", "dir.add"), Binding("r", "reload", "card.refresh",
                                                        show=False)]
    #: Set per view.
    title_key = ""
    columns: list[tuple[str, int | None]] = []
    add_permission: str | None = None

    def __init__(self) -> None:
        super().__init__()
        self.PERMISSIONS = {"add": self.add_permission or "never"}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self.heading(), classes="view-title")
        self.table = PagedTable(self.columns, id="directory-table")
        yield FilteredTable(self.table)
        yield Footer()

    def heading(self) -> str:
        return t(self.title_key)

    def on_mount(self) -> None:
        self.sub_title = self.heading()
        self.table.set_source(self.load, self.row)
        self.table.focus()

    async def load(self, cursor: str | None) -> Any:
        raise NotImplementedError

    def row(self, item: Any) -> list[Any]:
        raise NotImplementedError

    def form_fields(self) -> list[tuple[str, str, Widget]]:
        return []

    async def create(self, values: dict[str, Any]) -> Any:
        raise NotImplementedError

    def action_reload(self) -> None:
        self.table.reload(keep_cursor=True)

    def action_add(self) -> None:
        from bgtui.screens.forms import SimpleForm  # noqa: PLC0415

        self.app.push_screen(SimpleForm(self.title_key, self.form_fields(), self.create),
                             self.created)

    def created(self, item: Any) -> None:
        if item is not None:
            self.app.__dict__.get("directory_cache", {}).clear()
            self.notify(t("form.created", what=getattr(item, "title", None)
                          or getattr(item, "name", None) or getattr(item, "login", "")))
            self.table.reload(keep_cursor=True)


def simple(name: str, title_key: str, permission: str | None) -> Callable:
    """Register a directory screen class as the view ``:name``."""
    def decorate(cls: type[DirectoryScreen]) -> type[DirectoryScreen]:
        cls.title_key = title_key
        return register(name, title_key, permission)(cls)
    return decorate


class MovementTypes(DirectoryScreen):
    kind = "payment"
    add_permission = "directory.write"
    columns = [("col.id", 5), ("col.title", 30), ("col.default", 14)]

    async def load(self, cursor: str | None) -> Any:
        return await self.app.api(self.app.client.movement_types, self.kind)

    def row(self, item: Any) -> list[Any]:
        return [str(item.id), item.title, yes_no(item.is_default)]

    def form_fields(self) -> list[tuple[str, str, Widget]]:
        return [("title", "field.title", Input())]

    async def create(self, values: dict[str, Any]) -> Any:
        return await self.app.api(self.app.client.create_movement_type, self.kind,
                                  values["title"].strip())


@simple("paytypes", "view.paytypes", "contract.read")
class PaymentTypes(MovementTypes):
    kind = "payment"


@simple("chargetypes", "view.chargetypes", "contract.read")
class ChargeTypes(MovementTypes):
    kind = "charge"
    columns = MovementTypes.columns + [("col.refund", 8)]

    def row(self, item: Any) -> list[Any]:
        return super().row(item) + [yes_no(item.refund)]

    def form_fields(self) -> list[tuple[str, str, Widget]]:
        return super().form_fields() + [("refund", "field.refund",
                                         Checkbox(t("field.refund")))]

    async def create(self, values: dict[str, Any]) -> Any:
        return await self.app.api(self.app.client.create_movement_type, "charge",
                                  values["title"].strip(), refund=bool(values["refund"]))


@simple("groups", "view.groups", "contract.read")
class ContractGroups(DirectoryScreen):
    add_permission = "contract.write"
    columns = [("col.id", 5), ("col.title", 40)]

    async def load(self, cursor: str | None) -> Any:
        return await self.app.api(self.app.client.contract_groups)

    def row(self, item: Any) -> list[Any]:
        return [str(item.id), item.title]

    def form_fields(self) -> list[tuple[str, str, Widget]]:
        return [("title", "field.title", Input())]

    async def create(self, values: dict[str, Any]) -> Any:
        return await self.app.api(self.app.client.create_contract_group,
                                  values["title"].strip())


@simple("params", "view.params", "contract.read")
class ParamDefinitions(DirectoryScreen):
    add_permission = "contract.write"
    columns = [("col.key", 14), ("col.title", 24), ("col.type", 9), ("col.options", 20)]

    async def load(self, cursor: str | None) -> Any:
        return await self.app.api(self.app.client.param_definitions)

    def row(self, item: Any) -> list[Any]:
        return [item.key, item.title, item.type, ", ".join(item.options or [])]

    def form_fields(self) -> list[tuple[str, str, Widget]]:
        return [("key", "field.key", Input()), ("title", "field.title", Input()),
                ("type", "field.type", Select([(k, k) for k in PARAM_TYPES], value="text",
                                              allow_blank=False)),
                ("options", "field.options", Input()),
                ("history", "field.history", Checkbox(t("field.history")))]

    async def create(self, values: dict[str, Any]) -> Any:
        options = [o.strip() for o in values["options"].split(",") if o.strip()]
        body = {"key": values["key"].strip(), "title": values["title"].strip(),
                "type": values["type"], "history": bool(values["history"])}
        if options:
            body["options"] = options
        return await self.app.api(self.app.client.create_param_definition, body)
