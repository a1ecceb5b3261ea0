"""Contract cards remembered for a moment, on SQLite and MariaDB: a card read again soon
costs no database work, and no change is ever hidden by it, whoever makes the change."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.defer import maybeDeferred

from bgserver.billing.access import system_caller
from bgserver.billing.money import MoneyService
from bgserver.events.outbox import OutboxRelay
from bgserver.events.stomp import StompBus
from bgshared.api.models import MovementCreate
from tests.conftest import open_database
from tests.support.api import ApiHarness
from tests.support.spies import count_units
from tests.support.waiting import wait_until

OTHER = system_caller("another-process")


async def card(api, token, contract_id):
    status, body, _ = await api.call("GET", f"/api/v1/contracts/{contract_id}", token=token)
    assert status == 200, body
    return body


async def contract(api, token, **body):
    status, created, _ = await api.call("POST", "/api/v1/contracts", token=token,
                                        json={"title": "Ivanov", **body})
    assert status == 201, created
    return created


@pytest_twisted.ensureDeferred
async def test_a_card_read_again_soon_is_not_read_from_the_database(
        api, fake_reactor, monkeypatch):
    token = await api.admin()
    made = await contract(api, token)
    units = count_units(api.services.database, monkeypatch)
    first = await card(api, token, made["id"])
    assert await card(api, token, made["id"]) == first
    assert units.count("get_contracts") == 1
    fake_reactor.advance(api.settings.contracts.cache_seconds)
    assert await card(api, token, made["id"]) == first
    assert units.count("get_contracts") == 2


@pytest_twisted.ensureDeferred
async def test_each_change_through_the_api_shows_in_the_next_read(api):
    token = await api.admin()
    status, _, _ = await api.call("POST", "/api/v1/params", token=token,
                                  json={"key": "street", "title": "Street", "type": "text"})
    assert status == 201
    status, group, _ = await api.call("POST", "/api/v1/contract-groups", token=token,
                                      json={"title": "North"})
    assert status == 201
    made = await contract(api, token, mode="postpaid")
    base = f"/api/v1/contracts/{made['id']}"
    changes = [
        ("POST", "/payments", {"amount": "100.10"}, lambda c: c["balance"] == "100.10"),
        ("POST", "/charges", {"amount": "0.11"}, lambda c: c["balance"] == "99.99"),
        ("PATCH", "", {"title": "Petrov"}, lambda c: c["title"] == "Petrov"),
        ("PUT", "/params/street", {"value": "Tverskaya 7"},
         lambda c: c["params"] == {"street": "Tverskaya 7"}),
        ("PATCH", "", {"limit": "-50.00"}, lambda c: c["limit"] == "-50.00"),
        ("PUT", "/temporary-limit", {"limit": "-80.00", "until": "2026-01-31"},
         lambda c: c["temporary_limit"] == {"limit": "-80.00", "until": "2026-01-31"}),
        ("PATCH", "", {"groups": [group["id"]]}, lambda c: c["groups"] == [group["id"]]),
        ("POST", "/status", {"status": "suspended"}, lambda c: c["status"] == "suspended"),
    ]
    for method, path, body, shows in changes:
        before = await card(api, token, made["id"])  # remembered from here on
        assert not shows(before), (method, path)
        status, answer, _ = await api.call(method, base + path, token=token, json=body)
        assert status in (200, 201), answer
        assert shows(await card(api, token, made["id"])), (method, path)
    status, payments, _ = await api.call("GET", base + "/payments", token=token)
    await card(api, token, made["id"])
    status, _, _ = await api.call("DELETE", f"{base}/payments/{payments['items'][0]['id']}",
                                  token=token, json={"reason": "wrong contract"})
    assert status == 200
    assert (await card(api, token, made["id"]))["balance"] == "-0.11"


async def remembered(api) -> tuple[str, int]:
    """A new contract whose card this bgserver has read, and so remembers."""
    token = await api.admin()
    made = await contract(api, token, mode="postpaid")
    assert (await card(api, token, made["id"]))["balance"] == "0.00"
    return token, made["id"]


async def pay_elsewhere(database, clock, contract_id: int) -> None:
    """25.00 booked by another process (another bgserver, the scheduler, the loader...)."""
    await MoneyService(database, clock).post(OTHER, contract_id, "payment", MovementCreate(
        amount=Decimal("25.00"), date=date(2026, 1, 15)))


@pytest_twisted.ensureDeferred
async def test_a_change_by_another_process_shows_when_its_event_arrives(api, db_url, clock):
    token, contract_id = await remembered(api)
    other = open_database(db_url)
    relay = OutboxRelay(other, api.services.bus, clock, "other@host")
    try:
        await pay_elsewhere(other, clock, contract_id)
        # its event has not come yet: this bgserver still answers with what it read
        assert (await card(api, token, contract_id))["balance"] == "0.00"
        relay.startService()  # the other process's relay publishes the event

        async def shows_the_payment():
            return (await card(api, token, contract_id))["balance"] == "25.00"
        await wait_until(shows_the_payment)
    finally:
        relay.stopService()
        await other.stopService()


@pytest_twisted.ensureDeferred
async def test_without_its_event_a_change_shows_after_the_cache_time(
        api, db_url, clock, fake_reactor):
    token, contract_id = await remembered(api)
    other = open_database(db_url)
    try:
        await pay_elsewhere(other, clock, contract_id)
    finally:
        await other.stopService()
    assert (await card(api, token, contract_id))["balance"] == "0.00"  # no event came
    fake_reactor.advance(api.settings.contracts.cache_seconds)
    assert (await card(api, token, contract_id))["balance"] == "25.00"


def stomp_bus(broker, name):
    return StompBus(reactor, "127.0.0.1", broker.port, client_id=name, heartbeat_ms=2000,
                    max_retry_delay=0.5)


@pytest.mark.activemq
@pytest_twisted.ensureDeferred
async def test_two_bgservers_see_each_others_changes_through_activemq(
        db_url, clock, activemq):
    """Each bgserver remembers cards; a payment through one shows on the other as soon as
    its balance.changed event arrives (the test clock never lets a card expire)."""
    servers, services = [], []
    try:
        for name in ("bgserver-a", "bgserver-b"):
            database = open_database(db_url)
            bus = stomp_bus(activemq, name)
            relay = OutboxRelay(database, bus, clock, name, interval=0.2)
            services += [relay, bus, database]
            bus.startService()
            relay.startService()
            servers.append(ApiHarness(database, clock, bus=bus))
        a, b = servers
        await wait_until(lambda: all(s.services.bus.connected for s in servers))
        token = await a.admin()
        made = await contract(a, token, mode="postpaid")
        assert (await card(b, token, made["id"]))["balance"] == "0.00"  # b remembers it
        status, _, _ = await a.call("POST", f"/api/v1/contracts/{made['id']}/payments",
                                    token=token, json={"amount": "25.00"})
        assert status == 201

        async def b_shows_the_payment():
            return (await card(b, token, made["id"]))["balance"] == "25.00"
        await wait_until(b_shows_the_payment)
    finally:
        for server in servers:
            await server.aclose()
        for service in services:
            await maybeDeferred(service.stopService)


@pytest.mark.activemq
@pytest_twisted.ensureDeferred
async def test_cards_are_not_trusted_while_the_bus_is_away(
        database, clock, own_activemq, monkeypatch):
    bus = stomp_bus(own_activemq, "bgserver-alone")
    bus.startService()
    api = ApiHarness(database, clock, bus=bus)
    try:
        await wait_until(lambda: bus.connected)
        token = await api.admin()
        made = await contract(api, token)
        units = count_units(database, monkeypatch)

        async def reads(times):
            before = units.count("get_contracts")
            for _ in range(times):
                await card(api, token, made["id"])
            return units.count("get_contracts") - before

        assert await reads(3) == 1
        own_activemq.stop()  # changes elsewhere could no longer be heard of
        await wait_until(lambda: not bus.connected)
        assert await reads(2) == 2
        own_activemq.start()
        await wait_until(lambda: bus.connected, timeout=60)
        assert await reads(3) == 1  # read again after the gap, then remembered
    finally:
        await api.aclose()
        await bus.stopService()
