"""bgtui: the operator's terminal client. It speaks only HTTP to bgserver, through
``bgshared.client`` on Twisted, with Twisted's reactor running on Textual's asyncio loop."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import sys
import tomllib
from pathlib import Path
from typing import Any, Callable, Iterable

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen
from twisted.internet.asyncioreactor import AsyncioSelectorReactor
from twisted.internet.defer import Deferred

from bgshared.api.views import Me
from bgshared.client import ApiError, BillingClient, ClientError, ServerUnreachable
from bgtui import i18n
from bgtui.i18n import t
from bgtui.live import EventSource, LiveFeed

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
    """Start Twisted's reactor on ``loop``; answer it and whether we own it.

    The usual case installs it as the process's reactor. An asyncio reactor already
    running on this very loop (a host that embeds bgtui) is used as it is, and left
    running at exit. When the process has another reactor for good (a test process, where
    pytest-twisted installed its own), bgtui gets a reactor of its own on this loop,
    not installed: the client is handed its reactor and never reaches for the global one.
    """
    from twisted.internet.main import installReactor  # noqa: PLC0415

    if "twisted.internet.reactor" in sys.modules:
        from twisted.internet import reactor  # noqa: PLC0415

        if getattr(reactor, "_asyncioEventloop", None) is loop:
            return reactor, False
        own = TextualLoopReactor(loop)
    else:
        own = TextualLoopReactor(loop)
        installReactor(own)
    # Textual handles the terminal's signals; Twisted must not take them.
    own.startRunning(installSignalHandlers=False)
    return own, True


async def stop_reactor(reactor: Any, loop: asyncio.AbstractEventLoop) -> None:
    """Stop Twisted and wait until its shutdown triggers (thread pool...) have run."""
    if not reactor.running:
        return
    stopped: Deferred[None] = Deferred()
    reactor.addSystemEventTrigger("after", "shutdown", stopped.callback, None)
    reactor.stop()
    await stopped.asFuture(loop)


class Abandoned(Exception):
    """The operator gave up on a call (closed the retry or the login dialog)."""


class BillingTui(App[None]):
    """One App; each area is a screen in ``bgtui/screens/``, each view registered in
    ``bgtui.views``; every HTTP call goes through :meth:`api` from a worker."""

    CSS_PATH = "bgtui.tcss"
    TITLE = "bgbilling"
    BINDINGS = [
        Binding("ctrl+q", "quit", "app.quit", priority=True),
        Binding("colon", "command_line", "app.command"),
        Binding("question_mark", "help", "app.help"),
        Binding("escape", "back", "app.back", show=False),
        Binding("ctrl+l", "logout", "app.logout", show=False),
    ]

    #: The logged-in operator (``GET /api/v1/me``), None before login.
    operator: reactive[Me | None] = reactive(None)

    def __init__(self, url: str = DEFAULT_URL, refresh_seconds: float = 10.0,
                 lang: str = "en", readonly: bool = False,
                 events: EventSource | None = None, today: dt.date | None = None,
                 zone: dt.tzinfo | None = None):
        i18n.set_language(lang)
        super().__init__()
        i18n.translate_bindings(self)
        self.url = url.rstrip("/")
        self.refresh_seconds = refresh_seconds
        self.readonly = readonly
        self.title = t("app.title") + (f" [{t('app.readonly')}]" if readonly else "")
        self.sub_title = self.url
        self.client: BillingClient | None = None
        #: Twisted's reactor on Textual's loop, from ``on_load`` on.
        self.reactor: Any = None
        self._own_reactor = False
        #: Events for live screens, from the server's ``GET /api/v1/events`` once logged
        #: in; ``events`` (a test's or an embedding host's source) replaces that stream.
        self.live = LiveFeed()
        self.events_source = events
        #: Fixed "today" and time zone for reproducible screens (tests); None: the clock's.
        self.fixed_today = today
        self.zone = zone
        self._recovery = asyncio.Lock()
        self._recoveries = 0

    # -- the reactor and the client ------------------------------------------------------

    async def on_load(self) -> None:
        # The loop only exists once Textual runs, so the reactor is started here, before
        # any screen may need the client.
        self.reactor, self._own_reactor = start_reactor(asyncio.get_running_loop())
        self.client = BillingClient(self.url, reactor=self.reactor,
                                    timeout=max(1.0, min(10.0, self.refresh_seconds)))

    def on_mount(self) -> None:
        from bgtui.screens.login import LoginScreen  # noqa: PLC0415

        self.push_screen(LoginScreen(), self._logged_in)

    async def call(self, deferred: Deferred) -> Any:
        """Await a client call from Textual code."""
        return await deferred.asFuture(asyncio.get_running_loop())

    async def on_unmount(self) -> None:
        loop = asyncio.get_running_loop()
        if self.client is not None:
            await self.call(self.live.stop())
            await self.call(self.client.close())
        if self.reactor is not None and self._own_reactor:
            await stop_reactor(self.reactor, loop)

    def today(self) -> dt.date:
        return self.fixed_today or dt.datetime.now(self.zone).date()

    # -- the session -----------------------------------------------------------------------

    def can(self, permission: str | None, change: bool = True) -> bool:
        """Whether to offer something needing ``permission``; a change never when
        read-only. The server still decides: this only hides what would be refused."""
        if change and self.readonly:
            return False
        if permission is None:
            return self.operator is not None
        return self.operator is not None and permission in self.operator.permissions

    def _logged_in(self, operator: Me | None) -> None:
        if operator is None:
            self.exit()
            return
        self.operator = operator
        self.start_live()
        self.open_view("contracts")

    def start_live(self) -> None:
        """Open screens follow the server's events from now on (again after a new log-in,
        from the last event seen: nothing missed)."""
        if self.events_source is not None:
            self.run_worker(self.live.run(self.events_source), group="live",
                            exclusive=True, exit_on_error=False)
        elif self.client is not None:
            self.live.follow(self.client)

    async def action_logout(self) -> None:
        """End the session on the server and in this client; back to the login form."""
        if self.operator is None:
            return
        await self.call(self.live.stop())
        self.workers.cancel_group(self, "live")
        try:
            await self.call(self.client.logout())
        except ClientError:
            self.client.token = None  # forgotten here at least; it expires there
        self.operator = None
        self.__dict__.pop("directory_cache", None)
        while len(self.screen_stack) > 1:
            await self.pop_screen()
        from bgtui.screens.login import LoginScreen  # noqa: PLC0415

        self.push_screen(LoginScreen(), self._logged_in)

    async def api(self, method: Callable[..., Deferred], *args: Any, **kwargs: Any) -> Any:
        """One client call, from a worker, with the ways out an operator needs: no answer
        asks to retry, an ended session asks to log in again over the same screen, then the
        call is made again. Other refusals (403, 404, 422...) are the caller's to show.
        Raises :class:`Abandoned` when the operator gives up."""
        while True:
            seen = self._recoveries
            try:
                return await self.call(method(*args, **kwargs))
            except ServerUnreachable as exc:
                await self._recover(seen, "unreachable", exc)
            except ApiError as exc:
                if exc.status != 401:
                    raise
                await self._recover(seen, "login", exc)

    async def _recover(self, seen: int, kind: str, exc: Exception) -> None:
        """One dialog at a time, for all the calls that failed alike: those waiting behind
        it go again once it succeeded."""
        from bgtui.screens.login import LoginScreen, ProblemScreen  # noqa: PLC0415

        async with self._recovery:
            if self._recoveries != seen:
                return
            if kind == "login":
                dialog: Screen = LoginScreen(again=True)
            else:
                dialog = ProblemScreen(t("problem.unreachable", reason=getattr(
                    exc, "reason", str(exc))))
            outcome = await self.push_screen_wait(dialog)
            if not outcome:
                raise Abandoned()
            if isinstance(outcome, Me):
                self.operator = outcome
                if self.live.follower is None or self.live.follower.done.called:
                    self.start_live()  # the stream ended with the old session
            self._recoveries += 1

    def complain(self, exc: Exception) -> None:
        """Say plainly why a call did not work (a worker's last resort)."""
        if isinstance(exc, Abandoned):
            return
        if isinstance(exc, ApiError) and exc.status == 403:
            self.notify(t("problem.forbidden", message=exc.message), severity="error")
        elif isinstance(exc, ApiError):
            self.notify(t("problem.failed", message=exc.message), severity="error")
        else:
            self.notify(str(exc), severity="error")

    # -- navigation ------------------------------------------------------------------------

    def visible_views(self) -> list[Any]:
        import bgtui.screens  # noqa: F401, PLC0415  # pyflakes: ignore (registers the views)
        from bgtui.views import VIEWS  # noqa: PLC0415

        return [v for v in VIEWS.values() if self.can(v.permission, change=False)]

    def open_view(self, name: str) -> bool:
        """Jump to ``:name``: back to it if it is open below, else open it on top."""
        view = next((v for v in self.visible_views() if v.name == name), None)
        if view is None:
            self.notify(t("nav.unknown", name=name), severity="warning")
            return False
        for index, screen in enumerate(self.screen_stack):
            if getattr(screen, "view_name", None) == name:
                while len(self.screen_stack) > index + 1:
                    self.pop_screen()
                return True
        screen = view.make()
        screen.view_name = name
        if name == "contracts":  # the home view: the stack starts again from it
            while len(self.screen_stack) > 1:
                self.pop_screen()
        self.push_screen(screen)
        return True

    def action_command_line(self) -> None:
        from bgtui.screens.navigation import CommandLine  # noqa: PLC0415

        if self.operator is not None and not isinstance(self.screen, CommandLine):
            self.push_screen(CommandLine(), self._command_entered)

    def _command_entered(self, name: str | None) -> None:
        if name:
            self.open_view(name)

    def action_help(self) -> None:
        from bgtui.screens.navigation import HelpScreen  # noqa: PLC0415

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_back(self) -> None:
        """Esc: close the screen on top, down to the home view."""
        if len(self.screen_stack) > 2 and self.operator is not None:
            self.pop_screen()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The palette: Textual's own, every view the operator may open, and every action
        the current screen offers (what its permission checks let through)."""
        yield from super().get_system_commands(screen)
        if self.operator is not None:
            yield SystemCommand(t("app.logout"), t("app.logout_help"), self.action_logout)
        for view in self.visible_views():
            yield SystemCommand(f":{view.name}", t(view.title),
                                lambda name=view.name: self.open_view(name))
        for key, active in screen.active_bindings.items():
            binding = active.binding
            if not active.enabled or not binding.description or active.node is self:
                continue
            yield SystemCommand(binding.description, f"{binding.description} ({key})",
                                lambda node=active.node, action=binding.action:
                                self.call_later(node.run_action, action))


def load_tui_config(path: str | None) -> dict[str, Any]:
    """The ``[tui]`` section of the configuration file (``--config``, else ``BG_CONFIG``,
    else ``bgbilling.toml`` here when there is one)."""
    path = path or os.environ.get("BG_CONFIG")
    candidate = Path(path) if path else Path("bgbilling.toml")
    if not candidate.is_file():
        if path:
            raise SystemExit(f"bgtui: no configuration file {candidate}")
        return {}
    try:
        with candidate.open("rb") as f:
            section = tomllib.load(f).get("tui", {})
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SystemExit(f"bgtui: cannot read {candidate}: {exc}") from None
    return section if isinstance(section, dict) else {}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bgtui", description="bgbilling operator client")
    p.add_argument("--url", help=f"bgserver's address (default: $BG_SERVER, else [tui] url "
                                 f"of the configuration file, else {DEFAULT_URL})")
    p.add_argument("--lang", choices=i18n.LANGUAGES,
                   help="language: en or ru (default: $BG_TUI__LANG, [tui] lang, else en)")
    p.add_argument("--readonly", action="store_true", help="offer no change at all")
    p.add_argument("--config", help="configuration file (default: $BG_CONFIG)")
    p.add_argument("--refresh", type=float, default=10.0, metavar="SECONDS",
                   help="how often the status screen asks the server (default: 10)")
    args = p.parse_args(argv)
    config = load_tui_config(args.config)
    args.url = (args.url or os.environ.get("BG_SERVER") or os.environ.get("BG_TUI__URL")
                or config.get("url") or DEFAULT_URL)
    args.lang = (args.lang or os.environ.get("BG_TUI__LANG") or config.get("lang") or "en")
    if args.lang not in i18n.LANGUAGES:
        p.error(f"language must be one of {', '.join(i18n.LANGUAGES)}, not {args.lang}")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    BillingTui(args.url, refresh_seconds=args.refresh, lang=args.lang,
               readonly=args.readonly).run()


if __name__ == "__main__":
    main()
