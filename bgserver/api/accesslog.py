"""The access log: one JSON line per request, written in batches.

A line a request through Twisted's logger cost about a third of a simple request's time
(building the event, formatting its text and time, one write and flush per line). Like a
web server's, this log is a stream of its own, its lines written together: when
:data:`FLUSH_SECONDS` have passed since the first waiting one, when :data:`MAX_WAITING`
wait, and when the process stops.
"""

from __future__ import annotations

import sys
import time
from json.encoder import encode_basestring_ascii as quote
from typing import Any, TextIO

from twisted.application.service import Service
from twisted.logger import Logger

from bgserver.api.clients import client_host

log = Logger()

_HUNG_UP = ',"hung_up":true'
FLUSH_SECONDS = 0.2
MAX_WAITING = 1000


class AccessLog(Service):
    name = "access-log"

    def __init__(self, reactor: Any, out: TextIO, path: str | None = None):
        self.reactor = reactor
        self.out = out
        #: The file appended to; ``None`` for a stream that is not reopened.
        self.path = path
        self._waiting: list[str] = []
        self._flush_call = None
        self._second = -1
        self._second_text = ""

    @classmethod
    def open(cls, reactor: Any, target: str) -> "AccessLog":
        """``-``: standard output (where ``twistd -n`` logs too); otherwise a file appended
        to, so that logrotate's ``copytruncate`` works."""
        if target == "-":
            return cls(reactor, sys.stdout)
        return cls(reactor, open(target, "a", encoding="utf-8"), target)  # noqa: SIM115

    def reopen(self) -> None:
        """logrotate moved the file away: what waits goes to the old one, the next lines to
        a new file at the path."""
        if self.path is None:
            return
        self.flush()
        try:
            out = open(self.path, "a", encoding="utf-8")  # noqa: SIM115
        except OSError as exc:  # keep writing where we were rather than nowhere
            log.warn("access log {path} not reopened: {error}", path=self.path,
                     error=str(exc))
            return
        old, self.out = self.out, out
        old.close()

    def record(self, request: Any, started: float) -> None:
        """Method, path (no query: it may carry secrets), status, duration, client; and
        ``"hung_up": true`` when the client went away before its answer.

        What the client sent is quoted as JSON with every character outside ASCII escaped,
        so no byte of it can end a line or a field (not even U+2028 or U+0085)."""
        now = self.reactor.seconds()
        client = client_host(request)
        # an f-string with the C string quoting: a sixth of json.dumps's time
        self._waiting.append(
            f'{{"time":"{self._time(now)}",'
            f'"method":{quote(request.method.decode("ascii", "replace"))},'
            f'"path":{quote(request.path.decode("utf-8", "replace"))},'
            f'"status":{int(request.code)},"duration_ms":{(now - started) * 1000.0:.1f},'
            f'"client":{quote(client) if client is not None else "null"}'
            f'{_HUNG_UP if getattr(request, "hung_up", False) else ""}}}')
        if len(self._waiting) >= MAX_WAITING:
            self.flush()
        elif self._flush_call is None:
            self._flush_call = self.reactor.callLater(FLUSH_SECONDS, self.flush)

    def _time(self, now: float) -> str:
        """UTC with milliseconds; the seconds part is made once a second."""
        second = int(now)
        if second != self._second:
            self._second = second
            self._second_text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._second_text}.{int((now - second) * 1000):03d}Z"

    def flush(self) -> None:
        if self._flush_call is not None and self._flush_call.active():
            self._flush_call.cancel()
        self._flush_call = None
        if not self._waiting:
            return
        text = "\n".join(self._waiting) + "\n"
        self._waiting.clear()
        try:
            self.out.write(text)
            self.out.flush()
        except (OSError, ValueError) as exc:  # a full disk must not stop the API
            log.warn("access log not written: {error}", error=str(exc))

    def stopService(self):
        self.flush()
        return super().stopService()
