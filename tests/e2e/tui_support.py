"""Helpers for bgtui's end-to-end tests: a plain HTTP client to set the scene on the real
server (as another operator or accounting software would), and waiting inside the pilot.

bgtui runs in the test process: pytest-twisted has installed its reactor for good, so
bgtui starts a reactor of its own on Textual's loop (see ``bgtui.app.start_reactor``),
the same reactor class it runs on as a command.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from typing import Any, Awaitable, Callable

from textual.pilot import Pilot
from textual.widgets import Static

from tests.e2e.server import ADMIN_PASSWORD


class Http:
    """Blocking JSON calls with a token: the scene, and what the screens must show."""

    def __init__(self, url: str, login: str = "admin", password: str = ADMIN_PASSWORD):
        self.url = url
        self.token = None
        self.token = self("POST", "/api/v1/auth/login",
                          {"login": login, "password": password})["token"]

    def __call__(self, method: str, path: str, body: Any = None,
                 headers: dict[str, str] | None = None) -> Any:
        request = urllib.request.Request(
            self.url + path, method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json", **(headers or {}),
                     **({"Authorization": f"Bearer {self.token}"} if self.token else {})})
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                data = answer.read()
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"{method} {path}: {exc.code} {exc.read()!r}") from None
        return json.loads(data) if data else None

    def contract(self, title: str, **fields: Any) -> dict:
        return self("POST", "/api/v1/contracts", {"title": title, **fields})

    def pay(self, contract_id: int, amount: str, **fields: Any) -> dict:
        return self("POST", f"/api/v1/contracts/{contract_id}/payments",
                    {"amount": amount, **fields})


async def wait_until(pilot: Pilot, check: Callable[[], Any], what: str,
                     timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
        except Exception:  # noqa: BLE001 - a widget not there yet
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"bgtui: {what} not seen in {timeout}s")
        await pilot.pause(0.02)


def text(node, selector: str) -> str:
    return str(node.query_one(selector, Static).render()).strip()


def run_app(app, scenario: Callable[[Pilot], Awaitable[Any]],
            size: tuple[int, int] = (80, 24)) -> Any:
    """Run ``scenario(pilot)`` in bgtui under Textual's pilot; answer what it answers."""

    async def run() -> Any:
        async with app.run_test(size=size) as pilot:
            return await scenario(pilot)

    return asyncio.run(run())


async def log_in(pilot: Pilot, login: str = "admin", password: str = ADMIN_PASSWORD) -> None:
    from bgtui.screens.contracts import ContractsScreen  # noqa: PLC0415

    await wait_until(pilot, lambda: pilot.app.focused is not None, "the login form")
    await pilot.press(*login, "enter", *password, "enter")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ContractsScreen),
                     "the contract list", timeout=15)
