"""Sessions and API keys at their edges, to the second, on SQLite and MariaDB: when a
session dies of idleness or age, and how often its last use is written (found by
mutation testing, scripts/mutate)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest_twisted

from bgserver.billing.auth import TOUCH_EVERY

MINUTE = 60


async def me(api, token) -> int:
    return (await api.call("GET", "/api/v1/me", token=token))[0]


@pytest_twisted.ensureDeferred
async def test_a_session_dies_at_exactly_its_idle_time(api, fake_reactor):
    idle = api.settings.auth.idle_minutes * MINUTE
    token, _ = await api.operator(set())
    fake_reactor.advance(idle - 1)
    assert await me(api, token) == 200  # and this use is written: idleness starts again
    fake_reactor.advance(idle - 1)
    assert await me(api, token) == 200
    fake_reactor.advance(idle)
    assert await me(api, token) == 401


@pytest_twisted.ensureDeferred
async def test_a_session_dies_at_exactly_its_end_however_busy(api, fake_reactor):
    hours = api.settings.auth.session_hours
    token, _ = await api.operator(set())
    started = fake_reactor.seconds()
    while fake_reactor.seconds() + 59 * MINUTE < started + hours * 3600:
        fake_reactor.advance(59 * MINUTE)
        assert await me(api, token) == 200
    fake_reactor.advance(started + hours * 3600 - 1 - fake_reactor.seconds())
    assert await me(api, token) == 200
    fake_reactor.advance(1)
    assert await me(api, token) == 401


@pytest_twisted.ensureDeferred
async def test_a_use_is_written_once_a_minute_has_passed_not_before(api, fake_reactor):
    idle = api.settings.auth.idle_minutes * MINUTE
    touch = TOUCH_EVERY.total_seconds()
    token, _ = await api.operator(set())
    fake_reactor.advance(touch)
    assert await me(api, token) == 200  # a minute since the login: written
    fake_reactor.advance(idle - 1)
    assert await me(api, token) == 200  # alive only if that use was written
    fake_reactor.advance(touch - 1)
    assert await me(api, token) == 200  # under a minute: not written
    fake_reactor.advance(idle - touch + 1)
    assert await me(api, token) == 401  # idle since the use before


@pytest_twisted.ensureDeferred
async def test_an_api_keys_last_use_is_written_on_first_use_then_once_a_minute(
        api, fake_reactor):
    admin = await api.admin()
    status, created, _ = await api.call("POST", "/api/v1/api-keys", token=admin,
                                        json={"title": "crm"})
    assert status == 201

    async def last_used():
        status, keys, _ = await api.call("GET", "/api/v1/api-keys", token=admin)
        [key] = [k for k in keys["items"] if k["id"] == created["id"]]
        return key["last_used_at"]

    def at(seconds):
        return datetime.fromtimestamp(seconds, timezone.utc).isoformat()

    assert await last_used() is None
    first = fake_reactor.seconds()
    assert await me(api, created["key"]) == 200
    assert await last_used() == at(first)
    fake_reactor.advance(TOUCH_EVERY.total_seconds() - 1)
    assert await me(api, created["key"]) == 200
    assert await last_used() == at(first)
    fake_reactor.advance(1)
    assert await me(api, created["key"]) == 200
    assert await last_used() == at(first + TOUCH_EVERY.total_seconds())
