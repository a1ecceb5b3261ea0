"""Log files a provider can rotate, and log lines a client cannot forge."""

from __future__ import annotations

import signal
from typing import Any, Callable

from twisted.application.service import Service
from twisted.logger import Logger, globalLogPublisher
from twisted.python.logfile import BaseLogFile

log = Logger()


def _escaped(char: str) -> str:
    if char in '"\\':
        return "\\" + char
    if char.isprintable():
        return char
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 \
        else f"\\U{code:08x}"


def shown(text: Any) -> str:
    """Text a client chose (a login, a path), as a log line shows it: in quotes, with
    quotes, backslashes, line breaks and every other unprintable character escaped, so
    that it can neither end the line nor pass for more of it."""
    text = str(text)
    if text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'
    return '"' + "".join(map(_escaped, text)) + '"'


def twistd_log_files() -> list[BaseLogFile]:
    """The files twistd logs to (``--logfile``): found through the global log's observers,
    as twistd keeps no other handle on them."""
    found = []
    for observer in getattr(globalLogPublisher, "_observers", ()):
        out = getattr(observer, "_outFile", None)
        if isinstance(out, BaseLogFile):
            found.append(out)
    return found


class ReopenOnHangup(Service):
    """On SIGHUP (logrotate's ``postrotate``) every log file is opened again at its path:
    twistd's own when it writes to a file, and whatever else was added (the access log).
    Without it, SIGHUP would end the process."""

    name = "reopen-logs-on-sighup"

    def __init__(self, reactor: Any):
        self.reactor = reactor
        self.reopeners: list[Callable[[], None]] = []
        self._previous: Any = None
        self._installed = False

    def add(self, reopen: Callable[[], None]) -> None:
        self.reopeners.append(reopen)

    def startService(self) -> None:
        super().startService()
        try:
            self._previous = signal.signal(signal.SIGHUP, self._signalled)
        except ValueError:  # not the main thread (a test's process): nothing to reopen
            return
        self._installed = True

    def stopService(self):
        if self._installed:
            signal.signal(signal.SIGHUP, self._previous)
            self._installed = False
        return super().stopService()

    def _signalled(self, signum: int, frame: Any) -> None:
        self.reactor.callFromThread(self.reopen)

    def reopen(self) -> None:
        for log_file in twistd_log_files():
            log_file.reopen()
        for reopen in self.reopeners:
            reopen()
        log.info("log files reopened")
