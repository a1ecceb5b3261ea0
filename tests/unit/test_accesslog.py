"""The access log: lines wait and are written together, never lost at a stop."""

from __future__ import annotations

import io
import json
from types import SimpleNamespace

from twisted.internet.task import Clock

from bgserver.api import accesslog
from bgserver.api.accesslog import AccessLog


class CountingOut(io.StringIO):
    def __init__(self):
        super().__init__()
        self.writes = 0

    def write(self, text):
        self.writes += 1
        return super().write(text)


def request(path=b"/api/v1/contracts/7", code=200):
    return SimpleNamespace(method=b"GET", path=path, code=code,
                           getClientAddress=lambda: SimpleNamespace(host="10.0.0.5"))


def lines(out):
    return [json.loads(line) for line in out.getvalue().splitlines()]


def make(start=1_764_450_001.25):
    clock = Clock()
    clock.advance(start)
    out = CountingOut()
    return clock, out, AccessLog(clock, out)


def test_a_line_is_json_with_the_request_and_its_duration():
    clock, out, access = make()
    started = clock.seconds()
    clock.advance(0.0123)
    access.record(request(b'/api/v1/contracts/"x"', 404), started)
    access.flush()
    assert lines(out) == [{"time": "2025-11-29T21:00:01.262Z", "method": "GET",
                           "path": '/api/v1/contracts/"x"', "status": 404,
                           "duration_ms": 12.3, "client": "10.0.0.5"}]


def test_lines_wait_and_go_out_in_one_write():
    clock, out, access = make()
    for _ in range(5):
        access.record(request(), clock.seconds())
    assert out.writes == 0
    clock.advance(accesslog.FLUSH_SECONDS)
    assert (out.writes, len(lines(out))) == (1, 5)
    clock.advance(10)
    assert out.writes == 1  # nothing waiting, nothing written


def test_too_many_waiting_lines_are_written_at_once():
    clock, out, access = make()
    for _ in range(accesslog.MAX_WAITING):
        access.record(request(), clock.seconds())
    assert (out.writes, len(lines(out))) == (1, accesslog.MAX_WAITING)
    assert not clock.getDelayedCalls()


def test_stopping_writes_what_waits():
    clock, out, access = make()
    access.startService()
    access.record(request(), clock.seconds())
    access.stopService()
    assert len(lines(out)) == 1 and not clock.getDelayedCalls()


def test_a_failing_stream_loses_the_lines_not_the_request():
    clock, out, access = make()
    out.close()
    access.record(request(), clock.seconds())
    access.flush()  # no exception: the API goes on
    access.record(request(), clock.seconds())
    assert len(access._waiting) == 1
