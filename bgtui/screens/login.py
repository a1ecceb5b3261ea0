"""Logging in (at start, and again over the same screen when the session ends), and the
dialog for a server that does not answer."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from bgshared.client import ApiError, ClientError
from bgtui.i18n import t
from bgtui.screens.base import BgModal


class LoginScreen(BgModal):
    """Dismissed with the operator (``Me``) or None. ``again``: the session ended under an
    open screen, which stays as it was below this dialog."""

    BINDINGS = [Binding("escape", "cancel", "login.cancel"),
                Binding("enter", "enter", show=False, priority=True)]

    def __init__(self, again: bool = False):
        super().__init__()
        self.again = again

    def compose(self) -> ComposeResult:
        with Vertical(id="login-box"):
            if self.again:
                yield Static(t("login.again"), id="login-again")
            yield Label(t("login.login"))
            yield Input(id="login", placeholder=t("login.login").lower())
            yield Label(t("login.password"))
            yield Input(id="password", placeholder=t("login.password").lower(), password=True)
            yield Static("", id="login-error")
            with Horizontal(id="login-buttons"):
                yield Button(t("login.submit"), id="submit", variant="primary")
                yield Button(t("login.cancel"), id="cancel")

    def on_mount(self) -> None:
        self.query_one("#login-box").border_title = t("login.title", url=self.app.url)
        login = self.query_one("#login", Input)
        if self.again and self.app.operator is not None:
            login.value = self.app.operator.login
            self.query_one("#password", Input).focus()
        else:
            login.focus()

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
            self.show_error(t("login.empty"))
            return
        self.show_error("")
        self.log_in(login, password)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        if self.is_current:  # keys typed ahead may land after it closed
            self.dismiss(None)

    def show_error(self, text: str) -> None:
        self.query_one("#login-error", Static).update(text)

    @work(exclusive=True, group="login")
    async def log_in(self, login: str, password: str) -> None:
        client = self.app.client
        try:
            await self.app.call(client.login(login, password))
            operator = await self.app.call(client.me())
        except ApiError as exc:  # the server's own words: bad password, too many tries...
            self.show_error(f"{exc.message} ({exc.code})")
            return
        except ClientError as exc:  # no answer: say so; Enter tries again
            self.show_error(str(exc))
            return
        self.dismiss(operator)


class ProblemScreen(BgModal):
    """The server does not answer: retry (dismissed True) or give up (False)."""

    BINDINGS = [Binding("escape", "give_up", "problem.give_up"),
                Binding("r", "retry", "problem.retry")]

    def __init__(self, message: str):
        super().__init__()
        self.message = message

    def compose(self) -> ComposeResult:
        with Vertical(id="problem-box", classes="dialog"):
            yield Static(self.message, id="problem-text")
            with Horizontal(classes="buttons"):
                yield Button(t("problem.retry"), id="retry", variant="primary")
                yield Button(t("problem.give_up"), id="give-up")

    def on_mount(self) -> None:
        self.query_one("#problem-box").border_title = t("problem.title")
        self.query_one("#retry", Button).focus()

    @on(Button.Pressed, "#retry")
    def action_retry(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#give-up")
    def action_give_up(self) -> None:
        self.dismiss(False)
