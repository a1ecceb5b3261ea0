"""``:`` the command line that jumps to a view, and ``?`` the keys of the screen below."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.suggester import SuggestFromList
from textual.widgets import DataTable, Input, Static

from bgtui.i18n import t
from bgtui.screens.base import BgModal


class CommandLine(BgModal):
    """A line at the bottom: ``:contracts`` and Enter; Tab (or Right) takes the completion.
    Dismissed with the view's name, or None."""

    BINDINGS = [Binding("escape", "close", show=False),
                Binding("tab", "complete", show=False, priority=True)]

    def compose(self) -> ComposeResult:
        names = [v.name for v in self.app.visible_views()]
        with Vertical(id="command-box"):
            yield Static(", ".join(f":{n}" for n in names), id="command-views")
            yield Input(id="command", placeholder=t("nav.prompt"),
                        suggester=SuggestFromList(names, case_sensitive=False))

    def on_mount(self) -> None:
        self.query_one("#command", Input).focus()

    def action_complete(self) -> None:
        line = self.query_one("#command", Input)
        if line._suggestion:
            line.value = line._suggestion
            line.cursor_position = len(line.value)

    @on(Input.Submitted, "#command")
    def _go(self, event: Input.Submitted) -> None:
        name = event.value.strip().lstrip(":").strip().lower()
        names = [v.name for v in self.app.visible_views()]
        if name not in names:  # a unique start is enough: ":aud"
            starts = [n for n in names if n.startswith(name)] if name else []
            name = starts[0] if len(starts) == 1 else name
        self.dismiss(name or None)

    def action_close(self) -> None:
        self.dismiss(None)


class HelpScreen(BgModal):
    """The bindings in force on the screen below, with what each does."""

    BINDINGS = [Binding("escape,question_mark,q", "close", "help.close")]

    def __init__(self, below: Screen):
        super().__init__()
        self.below = below

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box", classes="dialog"):
            yield DataTable(id="help-keys", cursor_type="row", zebra_stripes=True)
            yield Static(t("help.close"), classes="hint")

    def on_mount(self) -> None:
        self.query_one("#help-box").border_title = t("help.title")
        table = self.query_one(DataTable)
        table.add_columns("", "")
        seen = set()
        # The screen's and the app's own keys first, then the focused widget's.
        ordered = sorted(self.below.active_bindings.items(),
                         key=lambda item: not isinstance(item[1].node, (Screen, type(self.app))))
        for key, active in ordered:
            binding = active.binding
            if not active.enabled or not binding.description or key in seen:
                continue
            seen.add(key)
            table.add_row(self.app.get_key_display(binding), binding.description)
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)
