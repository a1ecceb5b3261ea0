"""Which server, is it healthy, who is logged in (``:status``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.widgets import Footer, Header, Label, Static

from bgshared.client import ClientError
from bgtui.i18n import t
from bgtui.screens.base import BgScreen
from bgtui.views import register

FIELDS = [("url", "status.server"), ("status", "status.status"),
          ("database", "status.database"), ("events", "status.events"),
          ("operator", "status.operator"), ("checked", "status.checked")]


def describe_events(events: Any) -> str:
    """``{"broker": "local", "connected": true}`` -> ``local, connected``."""
    if not isinstance(events, dict):
        return str(events)
    state = t("status.connected") if events.get("connected") else t("status.not_connected")
    return f"{events.get('broker', '?')}, {state}"


@register("status", "view.status", None)
class StatusScreen(BgScreen):
    BINDINGS = [Binding("r", "refresh_health", "status.refresh")]

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="status-box"):
            with Grid(id="status-grid"):
                for key, title in FIELDS:
                    yield Label(t(title), classes="field-name")
                    yield Static("", id=key, classes="field-value")
            yield Static("", id="problem")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#status-box").border_title = t("view.status")
        self.set_value("url", self.app.url)
        self.show_operator(self.app.operator)
        self.show_problem("")
        self.watch(self.app, "operator", self.show_operator, init=False)
        self.refresh_health()
        self.refresh_timer = self.set_interval(self.app.refresh_seconds, self.refresh_health)

    def set_value(self, key: str, text: str, good: bool | None = None) -> None:
        value = self.query_one(f"#{key}", Static)
        value.update(text)
        value.set_class(good is True, "good")
        value.set_class(good is False, "bad")

    def show_operator(self, operator: Any) -> None:
        if operator is None:
            self.set_value("operator", t("status.nobody"))
        else:
            self.set_value("operator", operator.login, True)

    def action_refresh_health(self) -> None:
        self.refresh_health()

    @work(exclusive=True, group="health")
    async def refresh_health(self) -> None:
        """Ask ``/health``; a newer refresh replaces one still waiting. No dialog here:
        this screen is where an outage is shown."""
        try:
            health = await self.app.call(self.app.client.health())
        except ClientError as exc:
            for key in ("status", "database", "events"):
                self.set_value(key, "?")
            self.set_value("checked", datetime.now().strftime("%H:%M:%S"), False)
            self.show_problem(str(exc))
            return
        self.set_value("status", str(health.get("status")), health.get("status") == "ok")
        self.set_value("database", str(health.get("database")), health.get("database") == "ok")
        events = health.get("events")
        self.set_value("events", describe_events(events),
                       bool(isinstance(events, dict) and events.get("connected")))
        self.set_value("checked", datetime.now().strftime("%H:%M:%S"))
        self.show_problem("")

    def show_problem(self, text: str) -> None:
        problem = self.query_one("#problem", Static)
        problem.update(text)
        problem.display = bool(text)
