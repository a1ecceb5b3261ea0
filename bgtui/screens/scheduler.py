"""The scheduler (``:tasks``): tasks with their cron and next run, a run started by hand
and followed to its end on a progress bar, and each task's runs with their errors."""

from __future__ import annotations

import json
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Button, Checkbox, DataTable, Input, ProgressBar, Static, TextArea

from bgshared.api.views import Event, SchedulerRun, SchedulerTask
from bgtui.i18n import moment, t, yes_no
from bgtui.screens.base import BgModal
from bgtui.screens.directories import DirectoryScreen, simple
from bgtui.screens.forms import FormScreen, Invalid

#: How often an open run is asked about while it goes (the run_finished event ends the
#: wait at once).
POLL_SECONDS = 0.25


def run_state(run: SchedulerRun) -> Text:
    style = {"done": "green", "failed": "bold red", "running": "yellow"}.get(run.state, "")
    return Text(t(f"run.{run.state}") if f"run.{run.state}" in _STATES else run.state,
                style=style)


_STATES = {"run.queued", "run.running", "run.done", "run.failed"}


def progress_text(run: SchedulerRun) -> str:
    progress = run.progress
    if progress is None:
        return ""
    return f"{progress.done}/{progress.total}" if progress.total is not None \
        else str(progress.done)


class Live:
    """Mixin: reload the list when a run of the scheduler finished. (Textual calls the
    ``on_mount`` of every class of the screen, this one's too.)"""

    def on_mount(self) -> None:
        self._unsubscribe = self.app.live.subscribe(self._on_event)

    def on_unmount(self) -> None:
        self._unsubscribe()

    def _on_event(self, event: Event) -> None:
        if event.type == "scheduler.run_finished" and self.concerns(event):
            self.table.reload(keep_cursor=True)

    def concerns(self, event: Event) -> bool:
        return True


@simple("tasks", "view.tasks", "scheduler.run")
class SchedulerTasks(Live, DirectoryScreen):
    """``g`` runs the task under the cursor now; ``e`` changes its schedule; Enter shows
    its runs."""

    columns = [("col.id", 3), ("col.title", 28), ("col.cron", 12), ("col.next_run", 16),
               ("col.enabled", 5)]

    def __init__(self) -> None:
        super().__init__()
        self.PERMISSIONS = {"add": "never", "run_now": "scheduler.run",
                            "edit": "scheduler.write"}
        self._bindings.bind("g", "run_now", t("dir.run_now"))
        self._bindings.bind("e", "edit", t("dir.edit"))

    async def load(self, cursor: str | None) -> Any:
        return await self.app.api(self.app.client.scheduler_tasks)

    def row(self, task: SchedulerTask) -> list[Any]:
        return [str(task.id), task.title or task.type, task.cron or t("task.by_hand"),
                moment(task.next_run_at, self.app.zone) if task.next_run_at else t("none"),
                yes_no(task.enabled)]

    def action_run_now(self) -> None:
        task = self.table.item_at_cursor()
        if task is not None:
            self.start_run(task)

    @work(group="run-now")
    async def start_run(self, task: SchedulerTask) -> None:
        try:
            queued = await self.app.api(self.app.client.run_scheduler_task, task.id)
        except Exception as exc:  # noqa: BLE001
            self.app.complain(exc)
            return
        self.app.push_screen(RunScreen(task, queued.run_id))

    def action_edit(self) -> None:
        task = self.table.item_at_cursor()
        if task is not None:
            self.app.push_screen(TaskForm(task), self._changed)

    def _changed(self, task: Any) -> None:
        if task is not None:
            self.notify(t("form.saved"))
            self.table.reload(keep_cursor=True)

    @on(DataTable.RowSelected, "#directory-table")
    def _selected(self) -> None:
        task = self.table.item_at_cursor()
        if task is not None:
            self.app.push_screen(TaskRuns(task))


class TaskRuns(Live, DirectoryScreen):
    """A task's runs, newest first, in pages; Enter shows one (its result or error)."""

    columns = [("col.id", 5), ("col.state", 10), ("col.queued", 16), ("col.finished", 16),
               ("col.progress", 9), ("col.error", 20)]

    title_key = "view.runs"

    def __init__(self, task: SchedulerTask):
        super().__init__()
        self.scheduler_task = task
        self.PERMISSIONS = {"add": "never"}

    def heading(self) -> str:
        return f"{t('view.runs')}: {self.scheduler_task.title or self.scheduler_task.type}"

    async def load(self, cursor: str | None) -> Any:
        return await self.app.api(self.app.client.scheduler_runs, self.scheduler_task.id,
                                  cursor, 100)

    def row(self, run: SchedulerRun) -> list[Any]:
        zone = self.app.zone
        return [str(run.id), run_state(run), moment(run.queued_at, zone),
                moment(run.finished_at, zone) if run.finished_at else "",
                progress_text(run), Text(run.error or "", style="red")]

    def concerns(self, event: Event) -> bool:
        return event.data.get("task_id") == self.scheduler_task.id

    @on(DataTable.RowSelected, "#directory-table")
    def _selected(self) -> None:
        run = self.table.item_at_cursor()
        if run is not None:
            self.app.push_screen(RunScreen(self.scheduler_task, run.id))


class RunScreen(BgModal):
    """One run followed to its end: state, a progress bar, then its result or error."""

    BINDINGS = [Binding("escape", "close", "dir.close")]

    def __init__(self, task: SchedulerTask, run_id: int):
        super().__init__()
        self.scheduler_task = task
        self.run_id = run_id
        #: The run as last read.
        self.latest: SchedulerRun | None = None
        self._timer: Any = None
        self._unsubscribe: Any = None

    def compose(self) -> ComposeResult:
        with Vertical(id="run-box", classes="dialog"):
            yield Static("", id="run-state")
            yield ProgressBar(id="run-progress", show_eta=False)
            yield Static("", id="run-result")
            with Horizontal(classes="buttons"):
                yield Button(t("dir.close"), id="close", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#run-box").border_title = t(
            "run.title", id=self.run_id,
            task=self.scheduler_task.title or self.scheduler_task.type)
        self.query_one("#close", Button).focus()
        self._unsubscribe = self.app.live.subscribe(self._on_event)
        self.poll()
        self._timer = self.set_interval(POLL_SECONDS, self.poll)

    def on_unmount(self) -> None:
        if self._unsubscribe:
            self._unsubscribe()

    def _on_event(self, event: Event) -> None:
        if event.type == "scheduler.run_finished" and event.data.get("run_id") == self.run_id:
            self.poll()

    @work(exclusive=True, group="run-poll")
    async def poll(self) -> None:
        try:
            run = await self.app.api(self.app.client.scheduler_run, self.run_id)
        except Exception as exc:  # noqa: BLE001
            self.app.complain(exc)
            if self._timer is not None:
                self._timer.stop()
            return
        if self.is_attached:
            self.show(run)

    def show(self, run: SchedulerRun) -> None:
        self.latest = run
        state = run_state(run)
        if run.attempts > 1:
            state.append(f"  ({t('run.attempts', count=run.attempts)})")
        self.query_one("#run-state", Static).update(state)
        bar = self.query_one("#run-progress", ProgressBar)
        if run.progress is not None and run.progress.total:
            bar.update(total=run.progress.total, progress=run.progress.done)
        elif run.finished:
            bar.update(total=1, progress=1 if run.state == "done" else 0)
        result = self.query_one("#run-result", Static)
        if run.error:
            result.update(Text(run.error, style="bold red"))
        elif run.result is not None:
            result.update(json.dumps(run.result, ensure_ascii=False, default=str)[:500])
        if run.finished and self._timer is not None:
            self._timer.stop()

    def on_button_pressed(self) -> None:
        self.dismiss(self.latest)

    def action_close(self) -> None:
        self.dismiss(self.latest)


class TaskForm(FormScreen):
    """The schedule and params of a task: cron (empty: by hand only), enabled, params as
    JSON (the task type's own)."""

    title_key = "form.task"

    def __init__(self, task: SchedulerTask):
        super().__init__()
        self.scheduler_task = task

    def title_values(self) -> dict[str, Any]:
        return {"title": self.scheduler_task.title or self.scheduler_task.type}

    def fields(self) -> list[tuple[str, str, Widget]]:
        return [("cron", "field.cron", Input(value=self.scheduler_task.cron or "",
                                             placeholder=t("task.by_hand"))),
                ("enabled", "field.enabled", Checkbox(t("field.enabled"),
                                                      value=self.scheduler_task.enabled)),
                ("params", "field.params",
                 TextArea(json.dumps(self.scheduler_task.params, ensure_ascii=False, default=str),
                          classes="config-editor", soft_wrap=True))]

    def value(self, name: str) -> Any:
        widget = self.query_one(f"#in-{name}")
        return widget.text if isinstance(widget, TextArea) else super().value(name)

    def read(self) -> dict[str, Any]:
        text = self.value("params").strip() or "{}"
        try:
            params = json.loads(text)
        except ValueError as exc:
            raise Invalid("params", t("form.bad_json", error=str(exc))) from None
        if not isinstance(params, dict):
            raise Invalid("params", t("form.bad_json", error="{...}"))
        return {"cron": self.value("cron").strip() or None,
                "enabled": bool(self.value("enabled")), "params": params}

    async def send(self, body: dict[str, Any]) -> Any:
        return await self.app.api(self.app.client.update_scheduler_task, self.scheduler_task.id, body)
