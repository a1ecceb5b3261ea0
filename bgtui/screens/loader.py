"""The loader: its sources (``:sources``: add one, disable or enable it), the files it
loaded with their counts (``:files``) and the lines it quarantined (``:quarantine``)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widget import Widget
from textual.widgets import Input, Select

from bgshared.api.views import LoaderFile, LoaderSource, QuarantineRecord
from bgtui.i18n import moment, t, yes_no
from bgtui.screens.directories import DirectoryScreen, simple
from bgtui.screens.modules import Editable
from bgtui.widgets.paged_table import amount_cell

#: The file formats each module type's loader reads (the server checks the pair).
FORMATS = {"inet": ("freeradius-detail",), "voice": ("asterisk-csv",)}


@simple("sources", "view.sources", "loader.admin")
class LoaderSources(Editable):
    """``a`` adds a source, ``x`` disables or enables the one under the cursor."""

    add_permission = "loader.admin"
    columns = [("col.id", 4), ("col.name", 14), ("col.format", 17), ("col.module", 16),
               ("col.time_zone", 14), ("col.enabled", 5), ("col.spool", 24)]

    def __init__(self) -> None:
        super().__init__()
        self.PERMISSIONS = {"add": "loader.admin", "rename": "never",
                            "toggle": "loader.admin"}
        self.modules: dict[int, Any] = {}

    async def load(self, cursor: str | None) -> Any:
        self.modules = {m.id: m for m in (await self.app.api(self.app.client.modules)).items}
        return await self.app.api(self.app.client.loader_sources)

    def row(self, source: LoaderSource) -> list[Any]:
        module = self.modules.get(source.module_id)
        return [str(source.id), source.name, source.format,
                module.title if module else str(source.module_id), source.time_zone,
                yes_no(source.enabled), source.spool]

    def form_fields(self) -> list[tuple[str, str, Widget]]:
        pairs = [(f"{fmt} — {m.title}", f"{m.id}:{fmt}") for m in self.modules.values()
                 for fmt in FORMATS.get(m.type, ())]
        return [("name", "field.source_name", Input()),
                ("format", "field.format", Select(pairs, prompt=t("form.choose"))),
                ("time_zone", "field.time_zone", Input())]

    async def create(self, values: dict[str, Any]) -> Any:
        module_id, fmt = (values["format"] or "0:").split(":", 1)
        return await self.app.api(self.app.client.create_loader_source,
                                  values["name"].strip(), fmt, int(module_id),
                                  values["time_zone"].strip() or None)

    def action_add(self) -> None:
        from bgtui.screens.forms import SimpleForm  # noqa: PLC0415

        self.app.push_screen(SimpleForm("form.source", self.form_fields(), self.create),
                             self.created)

    async def patch(self, item: Any, body: dict[str, Any]) -> Any:
        return await self.app.api(self.app.client.update_loader_source, item.id, body)


def state_cell(state: str) -> Text:
    key = f"file.{state}"
    return Text(t(key) if t(key) != key else state,
                style="green" if state == "done" else "yellow")


@simple("files", "view.files", "loader.admin")
class LoaderFiles(DirectoryScreen):
    """Newest first; a file is done once each of its lines is stored, a duplicate or
    quarantined."""

    columns = [("col.id", 5), ("col.source", 12), ("col.file", 20), ("col.state", 10),
               ("col.lines", 7), ("col.stored", 7), ("col.duplicates", 6),
               ("col.quarantined", 6), ("col.finished", 16)]

    async def load(self, cursor: str | None) -> Any:
        return await self.app.api(self.app.client.loader_files, cursor, 100)

    def row(self, file: LoaderFile) -> list[Any]:
        quarantined = Text(str(file.quarantined), style="bold red" if file.quarantined else "",
                           justify="right")
        return [str(file.id), file.source, file.name, state_cell(file.state),
                amount_cell(str(file.lines)), amount_cell(str(file.stored)),
                amount_cell(str(file.duplicates)), quarantined,
                moment(file.finished_at, self.app.zone) if file.finished_at else ""]


@simple("quarantine", "view.quarantine", "loader.admin")
class Quarantine(DirectoryScreen):
    """Lines not stored yet: their file, line number and why."""

    columns = [("col.id", 5), ("col.file", 20), ("col.line", 6), ("col.reason", 30),
               ("col.record", 30)]

    def __init__(self) -> None:
        super().__init__()
        #: File names by id, from the newest files (an older one shows its id).
        self.file_names: dict[int, str] = {}

    async def load(self, cursor: str | None) -> Any:
        if not self.file_names:
            files = await self.app.api(self.app.client.loader_files, None, 500)
            self.file_names = {f.id: f.name for f in files.items}
        return await self.app.api(self.app.client.quarantine, cursor, 100)

    def row(self, record: QuarantineRecord) -> list[Any]:
        return [str(record.id), self.file_names.get(record.file_id, f"#{record.file_id}"),
                amount_cell(str(record.line)), Text(record.reason, style="red"),
                record.record.strip()[:200]]
