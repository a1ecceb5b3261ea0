"""Tariff plans (``:tariffs``): the list, and a plan's form with its config per module
instance in a JSON editor, a sample made from the module type's JSON Schema beside it
and the server's messages (``modules.3.fees.0.amount``) under the instance's editor."""

from __future__ import annotations

import json
from typing import Any

from textual import on, work
from textual.widget import Widget
from textual.widgets import Checkbox, DataTable, Input, SelectionList, Static, TextArea

from bgshared.api.views import ModuleInstance, ModuleType, Tariff
from bgshared.client import ApiError
from bgtui.i18n import t, yes_no
from bgtui.screens.directories import DirectoryScreen, simple
from bgtui.screens.forms import FormScreen, Invalid


def sample(schema: dict[str, Any], node: dict[str, Any] | None = None, depth: int = 0) -> Any:
    """A value that fits ``schema`` (JSON Schema as pydantic writes it): defaults where
    given, one element in each list, the first choice of each enum; for the operator to
    copy and change."""
    node = schema if node is None else node
    if depth > 8:
        return None
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return sample(schema, schema.get("$defs", {}).get(name, {}), depth + 1)
    if "default" in node:
        return node["default"]
    if "enum" in node:
        return node["enum"][0]
    if "anyOf" in node:
        kinds = [option.get("type") for option in node["anyOf"]]
        if "string" in kinds and "number" in kinds:
            return "0.00"  # money: a decimal string
        usable = [o for o in node["anyOf"] if o.get("type") != "null"]
        return sample(schema, usable[0], depth + 1) if usable else None
    kind = node.get("type")
    if kind == "object":
        return {name: sample(schema, prop, depth + 1)
                for name, prop in node.get("properties", {}).items()}
    if kind == "array":
        return [sample(schema, node.get("items", {}), depth + 1)]
    if kind == "integer":
        return node.get("minimum", 0)
    if kind == "number":
        return 0
    if kind == "boolean":
        return False
    if kind == "string":
        return ""
    return None


def config_text(config: dict[str, Any] | None) -> str:
    if not config:
        return ""
    return json.dumps(config, indent=1, ensure_ascii=False, default=str)


@simple("tariffs", "view.tariffs", "contract.read")
class TariffPlans(DirectoryScreen):
    """Enter or ``e`` edits the plan under the cursor."""

    add_permission = "tariff.write"
    columns = [("col.id", 4), ("col.title", 22), ("col.cabinet_title", 16),
               ("col.modules", 22), ("col.enabled", 7)]

    def __init__(self) -> None:
        super().__init__()
        self.PERMISSIONS = {"add": "tariff.write", "edit": "tariff.write"}
        self._bindings.bind("e", "edit", t("dir.edit"))
        self.instances: dict[int, ModuleInstance] = {}

    async def load(self, cursor: str | None) -> Any:
        modules = await self.app.api(self.app.client.modules)
        self.instances = {m.id: m for m in modules.items}
        return await self.app.api(self.app.client.tariffs)

    def row(self, item: Tariff) -> list[Any]:
        modules = ", ".join(self.instances[m].title if m in self.instances else str(m)
                            for m in sorted(item.modules))
        return [str(item.id), item.title, item.cabinet_title, modules, yes_no(item.enabled)]

    def action_add(self) -> None:
        self.app.push_screen(TariffForm(None), self.created)

    def action_edit(self) -> None:
        tariff = self.table.item_at_cursor()
        if tariff is not None:
            self.app.push_screen(TariffForm(tariff), self.created)

    @on(DataTable.RowSelected, "#directory-table")
    def _selected(self) -> None:
        if self.offers("edit"):
            self.action_edit()


class TariffForm(FormScreen):
    """A new plan (``tariff`` None) or a change to one. Each module instance has a JSON
    editor of its config: empty leaves the instance out of the plan."""

    def __init__(self, tariff: Tariff | None):
        super().__init__()
        self.tariff = tariff
        self.title_key = "form.edit_tariff" if tariff else "form.new_tariff"
        self.instances: list[ModuleInstance] = []
        self.types: dict[str, ModuleType] = {}

    def title_values(self) -> dict[str, Any]:
        return {"title": self.tariff.title if self.tariff else ""}

    def fields(self) -> list[tuple[str, str, Widget]]:
        tariff = self.tariff
        fields: list[tuple[str, str, Widget]] = [
            ("title", "field.title", Input(value=tariff.title if tariff else "")),
            ("cabinet_title", "field.cabinet_title",
             Input(value=tariff.cabinet_title if tariff else "")),
            ("groups", "field.tariff_groups", SelectionList[int](classes="groups-list"))]
        if tariff is not None:
            fields.append(("enabled", "field.enabled",
                           Checkbox(t("field.enabled"), value=tariff.enabled)))
        return fields

    def on_mount(self) -> None:
        self.load_modules()

    @work(group="tariff-form")
    async def load_modules(self) -> None:
        """The editors come with the instances and their types' schemas."""
        app = self.app
        try:
            types, modules, groups = (await app.api(app.client.module_types),
                                      await app.api(app.client.modules),
                                      await app.api(app.client.contract_groups))
            services = {m.id: (await app.api(app.client.services, m.id)).items
                        for m in modules.items}
        except Exception as exc:  # noqa: BLE001
            self.show_error(None, str(exc))
            return
        self.types = {ty.name: ty for ty in types.items}
        self.instances = modules.items
        chosen = set(self.tariff.groups) if self.tariff else set()
        self.query_one("#in-groups", SelectionList).add_options(
            [(g.title, g.id, g.id in chosen) for g in groups.items])
        box = self.query_one("#form-box")
        anchor = self.query_one("#error-form")
        for module in self.instances:
            module_type = self.types.get(module.type)
            config = self.tariff.modules.get(module.id) if self.tariff else None
            editor = TextArea(config_text(config), id=f"in-m{module.id}",
                              classes="config-editor", soft_wrap=True, show_line_numbers=False)
            offered = ", ".join(f"{s.id} {s.title}" for s in services[module.id])
            example = json.dumps(sample(module_type.tariff_config), ensure_ascii=False) \
                if module_type else ""
            await box.mount_all([
                Static(t("form.module_config", title=module.title,
                         type=module_type.title if module_type else module.type),
                       classes="config-title"),
                editor,
                Static(t("form.config_hint", services=offered or t("none"), example=example),
                       classes="hint config-hint"),
                Static("", classes="field-error", id=f"error-m{module.id}")],
                before=anchor)
            self.query_one(f"#error-m{module.id}").display = False

    def value(self, name: str) -> Any:
        widget = self.query_one(f"#in-{name}")
        if isinstance(widget, SelectionList):
            return list(widget.selected)
        if isinstance(widget, TextArea):
            return widget.text
        return super().value(name)

    def read(self) -> dict[str, Any]:
        title = self.value("title").strip()
        if not title:
            raise Invalid("title", t("form.required"))
        modules: dict[str, Any] = {}
        for module in self.instances:
            text = self.value(f"m{module.id}").strip()
            if not text:
                continue
            try:
                config = json.loads(text)
            except ValueError as exc:
                raise Invalid(f"m{module.id}", t("form.bad_json", error=str(exc))) from None
            if not isinstance(config, dict):
                raise Invalid(f"m{module.id}", t("form.bad_json", error="{...}"))
            modules[str(module.id)] = config
        body: dict[str, Any] = {"title": title,
                                "cabinet_title": self.value("cabinet_title").strip(),
                                "groups": self.value("groups"), "modules": modules}
        if self.tariff is not None:
            body["enabled"] = bool(self.value("enabled"))
        return body

    async def send(self, body: dict[str, Any]) -> Any:
        client = self.app.client
        if self.tariff is None:
            return await self.app.api(client.create_tariff, body)
        return await self.app.api(client.update_tariff, self.tariff.id, body)

    def show_api_error(self, exc: ApiError) -> None:
        """``modules.<id>.<path>`` goes under that instance's editor, with the path."""
        by_module: dict[str, list[str]] = {}
        rest = []
        for item in exc.details if isinstance(exc.details, list) else []:
            field = str(item.get("field", "")) if isinstance(item, dict) else ""
            parts = field.split(".", 2)
            if parts[0] == "modules" and len(parts) > 1 and self.query(f"#error-m{parts[1]}"):
                where = parts[2] + ": " if len(parts) > 2 else ""
                by_module.setdefault(parts[1], []).append(where + str(item.get("message", "")))
            else:
                rest.append(item)
        for module_id, messages in by_module.items():
            self.show_error(f"m{module_id}", "\n".join(messages))
        if rest or not by_module:
            super().show_api_error(ApiError(exc.status, exc.code, exc.message,
                                            rest or exc.details))

