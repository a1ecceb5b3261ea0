"""Administration: operators, roles and API keys (an API key is shown once, when made)."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Button, Input, Static

from bgtui.i18n import moment, t
from bgtui.screens.base import BgModal
from bgtui.screens.directories import DirectoryScreen, simple


def names(text: str) -> list[str]:
    return [n.strip() for n in text.split(",") if n.strip()]


@simple("users", "view.users", "user.admin")
class Operators(DirectoryScreen):
    add_permission = "user.admin"
    columns = [("col.login", 14), ("col.name", 24), ("col.status", 9), ("col.roles", 20)]

    async def load(self, cursor: str | None) -> Any:
        return await self.app.api(self.app.client.users)

    def row(self, item: Any) -> list[Any]:
        return [item.login, item.name, item.status, ", ".join(item.roles)]

    def form_fields(self) -> list[tuple[str, str, Widget]]:
        return [("login", "field.login", Input()), ("name", "field.name", Input()),
                ("password", "field.password", Input(password=True)),
                ("roles", "field.roles", Input())]

    async def create(self, values: dict[str, Any]) -> Any:
        return await self.app.api(self.app.client.create_user, {
            "login": values["login"].strip(), "name": values["name"].strip(),
            "password": values["password"], "roles": names(values["roles"])})


@simple("roles", "view.roles", "user.admin")
class Roles(DirectoryScreen):
    add_permission = "user.admin"
    columns = [("col.name", 14), ("col.permissions", 56)]

    async def load(self, cursor: str | None) -> Any:
        return await self.app.api(self.app.client.roles)

    def row(self, item: Any) -> list[Any]:
        return [item.name, "*" if item.builtin and not item.permissions
                else ", ".join(item.permissions)]

    def form_fields(self) -> list[tuple[str, str, Widget]]:
        return [("name", "field.name", Input()), ("permissions", "field.permissions", Input())]

    async def create(self, values: dict[str, Any]) -> Any:
        return await self.app.api(self.app.client.create_role, values["name"].strip(),
                                  names(values["permissions"]))


@simple("apikeys", "view.apikeys", "user.admin")
class ApiKeys(DirectoryScreen):
    BINDINGS = [Binding("delete", "revoke", "dir.revoke")]
    add_permission = "user.admin"
    columns = [("col.id", 4), ("col.title", 20), ("col.roles", 14), ("col.last_used", 16),
               ("col.revoked", 16)]

    def __init__(self) -> None:
        super().__init__()
        self.PERMISSIONS = {"add": "user.admin", "revoke": "user.admin"}

    async def load(self, cursor: str | None) -> Any:
        return await self.app.api(self.app.client.api_keys)

    def row(self, item: Any) -> list[Any]:
        return [str(item.id), item.title, ", ".join(item.roles),
                moment(item.last_used_at) if item.last_used_at else "",
                moment(item.revoked_at) if item.revoked_at else ""]

    def form_fields(self) -> list[tuple[str, str, Widget]]:
        return [("title", "field.title", Input()), ("roles", "field.roles", Input())]

    async def create(self, values: dict[str, Any]) -> Any:
        return await self.app.api(self.app.client.create_api_key, values["title"].strip(),
                                  names(values["roles"]))

    def created(self, item: Any) -> None:
        super().created(item)
        if item is not None:
            self.app.push_screen(KeyShownOnce(item.key))

    def action_revoke(self) -> None:
        item = self.table.item_at_cursor()
        if item is not None and item.revoked_at is None:
            self.run_worker(self._revoke(item.id), group="revoke")

    async def _revoke(self, key_id: int) -> None:
        try:
            await self.app.api(self.app.client.revoke_api_key, key_id)
        except Exception as exc:  # noqa: BLE001
            self.app.complain(exc)
            return
        self.table.reload(keep_cursor=True)


class KeyShownOnce(BgModal):
    """The new key, this once: the server keeps only its hash."""

    BINDINGS = [Binding("escape", "close", "dir.close")]

    def __init__(self, key: str):
        super().__init__()
        self.key = key

    def compose(self) -> ComposeResult:
        with Vertical(id="key-box", classes="dialog"):
            yield Static(t("dir.key_once"))
            yield Static(self.key, id="api-key")
            with Horizontal(classes="buttons"):
                yield Button(t("dir.close"), id="close", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#close", Button).focus()

    def on_button_pressed(self) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
