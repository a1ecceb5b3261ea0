"""Drive bgtui with Textual's pilot against a server; print what it saw as JSON.

Run as ``python -m tests.e2e.tui_pilot URL`` by ``test_tui.py``: bgtui installs Twisted's
asyncio reactor on Textual's loop, which cannot happen inside pytest, where pytest-twisted
has installed its own reactor already; a process of its own runs bgtui exactly as an
operator's terminal does. The assertions stay in the test; this only observes (an
exception inside the app is re-raised by ``run_test`` and fails the process).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from textual.widgets import Input, Static

from bgtui.app import BillingTui
from bgtui.screens.login import LoginScreen
from bgtui.screens.status import FIELDS, StatusScreen
from tests.e2e.server import ADMIN_PASSWORD

#: Failed logins are throttled per login name: the wrong ones use a name of their own.
WRONG_LOGIN = "pilot-nobody"


async def wait_until(pilot, check, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"bgtui: {what} not seen in {timeout}s")
        await pilot.pause(0.02)


def text(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render()).strip()


async def scenario(url: str) -> dict:
    seen: dict = {}
    app = BillingTui(url, refresh_seconds=0.5)
    async with app.run_test(size=(100, 30)) as pilot:
        calls = {"health": 0}
        health = app.client.health

        def counting_health():
            calls["health"] += 1
            return health()

        app.client.health = counting_health
        await wait_until(pilot, lambda: isinstance(app.screen, StatusScreen), "status screen")
        status = app.screen
        await wait_until(pilot, lambda: text(status, "#database") == "ok", "database ok")
        seen["status"] = {key: text(status, f"#{key}") for key, _ in FIELDS}
        seen["problem"] = text(status, "#problem")

        # Periodic refresh: more calls come without a key.
        start = calls["health"]
        await wait_until(pilot, lambda: calls["health"] >= start + 2, "periodic refresh")
        seen["periodic_refreshes"] = calls["health"] - start

        # The r key refreshes now (the timer paused, so that only the key counts).
        status.refresh_timer.pause()
        status.query_one("#database", Static).update("")
        before = calls["health"]
        await pilot.press("r")
        await wait_until(pilot, lambda: text(status, "#database") == "ok", "refresh by key")
        seen["refresh_key_calls"] = calls["health"] - before
        status.refresh_timer.resume()

        # Login: the server's error is shown in the dialog; the app keeps running.
        await pilot.press("l")
        await wait_until(pilot, lambda: isinstance(app.screen, LoginScreen), "login screen")
        login = app.screen
        await pilot.click("#submit")
        seen["login_empty_error"] = text(login, "#login-error")
        login.query_one("#login", Input).focus()
        await pilot.press(*WRONG_LOGIN, "enter")
        seen["password_focused"] = login.query_one("#password", Input).has_focus
        await pilot.press(*"wrong", "enter")
        await wait_until(pilot, lambda: text(login, "#login-error") != "", "login error")
        seen["login_error"] = text(login, "#login-error")
        seen["still_on_login"] = app.screen is login
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is status, "back to status")
        seen["operator_after_cancel"] = text(status, "#operator")

        # Then the right password: the dialog closes and the status screen names the operator.
        await pilot.press("l")
        await wait_until(pilot, lambda: isinstance(app.screen, LoginScreen), "login again")
        await pilot.press(*"admin", "enter", *ADMIN_PASSWORD, "enter")
        await wait_until(pilot, lambda: app.screen is status, "logged in", timeout=15)
        seen["operator"] = text(status, "#operator")
        seen["has_token"] = bool(app.client.token)
        reactor = app.reactor
        seen["reactor_running_inside"] = bool(reactor.running)
    seen["reactor_running_after"] = bool(reactor.running)
    return seen


async def scenario_down(url: str) -> dict:
    """No server at ``url``: the status screen says so and the app keeps running."""
    app = BillingTui(url, refresh_seconds=0.5)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, StatusScreen), "status screen")
        status = app.screen
        await wait_until(pilot, lambda: text(status, "#problem") != "", "the problem shown")
        seen = {"problem": text(status, "#problem"), "database": text(status, "#database"),
                "checked_bad": status.query_one("#checked").has_class("bad")}
    return seen


def main() -> None:
    run = scenario_down if "--down" in sys.argv[2:] else scenario
    print(json.dumps(asyncio.run(run(sys.argv[1]))))


if __name__ == "__main__":
    main()
