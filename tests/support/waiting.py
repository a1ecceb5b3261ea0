"""Waiting in tests without blocking the reactor."""

import inspect

from twisted.internet import reactor
from twisted.internet.defer import Deferred


def sleep(seconds: float) -> Deferred:
    d = Deferred()
    reactor.callLater(seconds, d.callback, None)
    return d


async def wait_until(check, timeout: float = 10.0):
    """Poll ``check()`` (plain or async) until it is true."""
    for _ in range(int(timeout / 0.02)):
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        await sleep(0.02)
    raise AssertionError("condition not met in time")
