"""Operator login: a dialog over the current screen; dismissed with the operator or None."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from bgshared.client import ApiError, ClientError


class LoginScreen(ModalScreen[dict | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel"),
                Binding("enter", "enter", show=False, priority=True)]

    def compose(self) -> ComposeResult:
        with Vertical(id="login-box"):
            yield Label("Login")
            yield Input(id="login", placeholder="login")
            yield Label("Password")
            yield Input(id="password", placeholder="password", password=True)
            yield Static("", id="login-error")
            with Horizontal(id="login-buttons"):
                yield Button("Log in", id="submit", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#login-box").border_title = f"Log in to {self.app.url}"

    def action_enter(self) -> None:
        """Enter goes from the login to the password, then submits.

        Keys typed ahead (or pasted) wait in each field's own queue while this priority
        binding runs at once: so the focus moves at once (the next keys land in the
        password), and the form is read only after both fields have taken their keys.
        """
        focused = self.focused
        login, password = self.query_one("#login", Input), self.query_one("#password", Input)
        if isinstance(focused, Button):
            focused.press()
        elif focused is login:
            self.set_focus(password)
        else:
            login.call_later(password.call_later, self._submit)

    @on(Button.Pressed, "#submit")
    def _submit(self) -> None:
        login = self.query_one("#login", Input).value.strip()
        password = self.query_one("#password", Input).value
        if not login or not password:
            self.show_error("enter the login and the password")
            return
        self.show_error("")
        self.log_in(login, password)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    def show_error(self, text: str) -> None:
        self.query_one("#login-error", Static).update(text)

    @work(exclusive=True, group="login")
    async def log_in(self, login: str, password: str) -> None:
        client = self.app.client
        try:
            await self.app.call(client.login(login, password))
        except ApiError as exc:  # the server's own words: bad password, too many tries...
            self.show_error(f"{exc.message} ({exc.code})")
            return
        except ClientError as exc:
            self.show_error(str(exc))
            return
        try:
            operator = await self.app.call(client.me())
        except ClientError:  # logged in all the same; the name is what we know
            operator = {"login": login}
        self.dismiss(operator)
