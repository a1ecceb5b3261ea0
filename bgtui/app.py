"""bgtui: the operator's terminal client. It speaks only HTTP to bgserver, through
``bgshared.client`` on Twisted, with Twisted's reactor running on Textual's asyncio loop."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any

from textual.app import App
from textual.binding import Binding
from textual.reactive import reactive
from twisted.internet.asyncioreactor import AsyncioSelectorReactor
from twisted.internet.defer import Deferred

from bgshared.client import BillingClient
from bgtui.screens.login import LoginScreen
from bgtui.screens.status import StatusScreen

DEFAULT_URL = "http://127.0.0.1:8080"


class TextualLoopReactor(AsyncioSelectorReactor):
    """Twisted's asyncio reactor on a loop that Textual owns.

    The stock reactor's ``crash`` (run when it stops) stops the asyncio loop too, which
    would pull the loop from under Textual halfway through its own shutdown. This one
    stops only Twisted (connections, timers, thread pool) and leaves the loop to Textual.
    """

    def crash(self) -> None:
        super(AsyncioSelectorReactor, self).crash()


def start_reactor(loop: asyncio.AbstractEventLoop) -> tuple[Any, bool]:
    """Install and start the reactor on ``loop``; answer it and whether we own it.

    An asyncio reactor already running on this very loop (a host that embeds bgtui) is
    used as it is, and left running at exit.
    """
    from twisted.internet.main import installReactor  # noqa: PLC0415

    if "twisted.internet.reactor" in sys.modules:
        from twisted.internet import reactor  # noqa: PLC0415

        if getattr(reactor, "_asyncioEventloop", None) is not loop:
            raise RuntimeError(f"bgtui needs Twisted's asyncio reactor on Textual's loop, "
                               f"but {type(reactor).__name__} is installed already")
        return reactor, False
    reactor = TextualLoopReactor(loop)
    installReactor(reactor)
    # Textual handles the terminal's signals; Twisted must not take them.
    reactor.startRunning(installSignalHandlers=False)
    return reactor, True


async def stop_reactor(reactor: Any, loop: asyncio.AbstractEventLoop) -> None:
    """Stop Twisted and wait until its shutdown triggers (thread pool...) have run."""
    if not reactor.running:
        return
    stopped: Deferred[None] = Deferred()
    reactor.addSystemEventTrigger("after", "shutdown", stopped.callback, None)
    reactor.stop()
    await stopped.asFuture(loop)


class BillingTui(App[None]):
    """One App; each area is a screen in ``bgtui/screens/``."""

    CSS_PATH = "bgtui.tcss"
    TITLE = "bgbilling"
    BINDINGS = [Binding("q", "quit", "Quit"), Binding("l", "login", "Log in")]

    #: The logged-in operator (``GET /api/v1/me``), None before login.
    operator: reactive[dict[str, Any] | None] = reactive(None)

    def __init__(self, url: str = DEFAULT_URL, refresh_seconds: float = 10.0):
        super().__init__()
        self.url = url.rstrip("/")
        self.refresh_seconds = refresh_seconds
        self.sub_title = self.url
        self.client: BillingClient | None = None
        #: Twisted's reactor on Textual's loop, from ``on_load`` on.
        self.reactor: Any = None
        self._own_reactor = False

    async def on_load(self) -> None:
        # The loop only exists once Textual runs, so the reactor is installed here, before
        # any screen may need the client.
        self.reactor, self._own_reactor = start_reactor(asyncio.get_running_loop())
        # Shorter than the refresh interval: a silent server shows as one, not as a
        # refresh cancelled by the next.
        self.client = BillingClient(self.url, reactor=self.reactor,
                                    timeout=max(1.0, min(5.0, self.refresh_seconds / 2)))

    def on_mount(self) -> None:
        self.push_screen(StatusScreen())

    async def call(self, deferred: Deferred) -> Any:
        """Await a client call from Textual code."""
        return await deferred.asFuture(asyncio.get_running_loop())

    def action_login(self) -> None:
        if not isinstance(self.screen, LoginScreen):
            self.push_screen(LoginScreen(), self._logged_in)

    def _logged_in(self, operator: dict[str, Any] | None) -> None:
        if operator is not None:
            self.operator = operator

    async def on_unmount(self) -> None:
        loop = asyncio.get_running_loop()
        if self.client is not None:
            await self.call(self.client.close())
        if self.reactor is not None and self._own_reactor:
            await stop_reactor(self.reactor, loop)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bgtui", description="bgbilling operator client")
    p.add_argument("--url", default=os.environ.get("BGTUI_URL") or DEFAULT_URL,
                   help=f"bgserver's address (default: $BGTUI_URL, else {DEFAULT_URL})")
    p.add_argument("--refresh", type=float, default=10.0, metavar="SECONDS",
                   help="how often the status screen asks the server (default: 10)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    BillingTui(args.url, refresh_seconds=args.refresh).run()


if __name__ == "__main__":
    main()
