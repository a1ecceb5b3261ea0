"""Module instances (``:modules``) and each one's services: add, rename, disable.

An instance is "Internet, Moscow" of type inet; its data is its own block. Enter on an
instance opens its services."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.widget import Widget
from textual.widgets import DataTable, Input, Select

from bgshared.api.views import ModuleInstance
from bgtui.i18n import t, yes_no
from bgtui.screens.directories import DirectoryScreen, simple
from bgtui.screens.forms import SimpleForm


class Editable(DirectoryScreen):
    """A directory whose rows can be renamed (``e``) and disabled or enabled again
    (``x``) by an operator with ``module.admin``."""

    add_permission = "module.admin"

    def __init__(self) -> None:
        super().__init__()
        self.PERMISSIONS = {"add": "module.admin", "rename": "module.admin",
                            "toggle": "module.admin"}
        self._bindings.bind("e", "rename", t("dir.rename"))
        self._bindings.bind("x", "toggle", t("dir.toggle"))

    async def patch(self, item: Any, body: dict[str, Any]) -> Any:
        raise NotImplementedError

    def action_rename(self) -> None:
        item = self.table.item_at_cursor()
        if item is None:
            return

        async def send(values: dict[str, Any]) -> Any:
            return await self.patch(item, {"title": values["title"].strip()})

        self.app.push_screen(SimpleForm("dir.rename", [
            ("title", "field.title", Input(value=item.title))], send), self.changed)

    def changed(self, item: Any) -> None:
        if item is not None:
            self.app.__dict__.get("directory_cache", {}).clear()
            self.notify(t("form.saved"))
            self.table.reload(keep_cursor=True)

    def action_toggle(self) -> None:
        item = self.table.item_at_cursor()
        if item is not None:
            self.run_worker(self._toggle(item), group="toggle")

    async def _toggle(self, item: Any) -> None:
        try:
            await self.patch(item, {"enabled": not item.enabled})
        except Exception as exc:  # noqa: BLE001
            self.app.complain(exc)
            return
        self.app.__dict__.get("directory_cache", {}).clear()
        self.table.reload(keep_cursor=True)


@simple("modules", "view.modules", "contract.read")
class ModuleInstances(Editable):
    columns = [("col.id", 4), ("col.type", 8), ("col.title", 30), ("col.enabled", 7)]

    def __init__(self) -> None:
        super().__init__()
        self.types: list[Any] = []

    async def load(self, cursor: str | None) -> Any:
        self.types = (await self.app.api(self.app.client.module_types)).items
        return await self.app.api(self.app.client.modules)

    def row(self, item: ModuleInstance) -> list[Any]:
        return [str(item.id), item.type, item.title, yes_no(item.enabled)]

    def form_fields(self) -> list[tuple[str, str, Widget]]:
        return [("type", "field.module_type",
                 Select([(f"{ty.title} ({ty.name})", ty.name) for ty in self.types],
                        prompt=t("form.choose"))),
                ("title", "field.title", Input())]

    async def create(self, values: dict[str, Any]) -> Any:
        return await self.app.api(self.app.client.create_module, values["type"] or "",
                                  values["title"].strip())

    async def patch(self, item: Any, body: dict[str, Any]) -> Any:
        return await self.app.api(self.app.client.update_module, item.id, body)

    @on(DataTable.RowSelected, "#directory-table")
    def _selected(self) -> None:
        module = self.table.item_at_cursor()
        if module is not None:
            self.app.push_screen(ModuleServices(module))


class ModuleServices(Editable):
    """The services of one instance (a fee's subscription, a technician's visit)."""

    columns = [("col.id", 4), ("col.title", 30), ("col.unit", 10), ("col.enabled", 7)]

    title_key = "view.services"

    def __init__(self, module: ModuleInstance):
        super().__init__()
        self.module = module

    def heading(self) -> str:
        return f"{t('view.services')}: {self.module.title}"

    async def load(self, cursor: str | None) -> Any:
        return await self.app.api(self.app.client.services, self.module.id)

    def row(self, item: Any) -> list[Any]:
        return [str(item.id), item.title, item.unit, yes_no(item.enabled)]

    def form_fields(self) -> list[tuple[str, str, Widget]]:
        return [("title", "field.title", Input()), ("unit", "field.unit", Input())]

    async def create(self, values: dict[str, Any]) -> Any:
        return await self.app.api(self.app.client.create_service, self.module.id,
                                  values["title"].strip(), values["unit"].strip())

    async def patch(self, item: Any, body: dict[str, Any]) -> Any:
        return await self.app.api(self.app.client.update_service, self.module.id, item.id,
                                  body)
