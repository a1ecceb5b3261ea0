"""GET /api/v1/events over real HTTP on SQLite and MariaDB, read by the client bgtui uses:
events reach who may see them and nobody else, resume by Last-Event-ID, heartbeats, and
the end of a stream whose token is revoked."""

from __future__ import annotations

import pytest
import pytest_twisted
import treq
from twisted.internet.protocol import Protocol
from sqlalchemy import select

from bgserver.config import Settings
from bgserver.storage.schema import outbox
from bgshared.client import ApiError, BillingClient
from tests.support.api import ApiHarness
from tests.support.waiting import sleep, wait_until


class Body(Protocol):
    data = b""

    def dataReceived(self, data):
        self.data += data


def follow(api, token, last_event_id=None):
    client = BillingClient(api.url, token)
    received: list[dict] = []
    follower = client.follow_events(received.append, last_event_id)
    return client, follower, received


async def stop(client, follower):
    await follower.stop()
    await client.close()


def stored(api) -> list[tuple[int, str]]:
    """(outbox id, event id) of every stored event but access.*, in order."""
    return api.services.database.run_sync("outbox", lambda conn: [
        (row.id, row.event_id) for row in conn.execute(
            select(outbox.c.id, outbox.c.event_id).where(~outbox.c.type.like("access.%"))
            .order_by(outbox.c.id))])


async def contract(api, token, title, **body):
    status, created, _ = await api.call("POST", "/api/v1/contracts", token=token,
                                        json={"title": title, **body})
    assert status == 201, created
    return created


async def pay(api, token, contract_id, amount="10.00"):
    status, body, _ = await api.call("POST", f"/api/v1/contracts/{contract_id}/payments",
                                     token=token, json={"amount": amount})
    assert status == 201, body
    return body


@pytest_twisted.ensureDeferred
async def test_an_event_reaches_a_subscribed_caller_as_stored(api):
    admin = await api.admin()
    client, follower, received = follow(api, admin)
    await wait_until(lambda: follower.connected and api.services.live.listeners)
    made = await contract(api, admin, "Petrov Ivan")
    await wait_until(lambda: received)
    event = received[0]
    assert event["type"] == "contract.created" and event["contract_id"] == made["id"]
    assert event["data"] == {"number": made["number"], "title": "Petrov Ivan"}
    assert set(event) == {"id", "type", "occurred_at", "contract_id", "data"}
    (outbox_id, event_id), = stored(api)
    assert (event["id"], follower.last_event_id) == (event_id, str(outbox_id))
    await stop(client, follower)


@pytest_twisted.ensureDeferred
async def test_another_groups_events_never_reach_a_group_limited_operator(api):
    admin = await api.admin()
    world = await api.north_and_south(admin)
    northerner, _ = await api.operator({"contract.read"}, groups=[world.north["id"]])
    before = len(stored(api))
    client, follower, received = follow(api, northerner)
    everything, all_of_it, seen_all = follow(api, admin)
    await wait_until(lambda: len(api.services.live.listeners) == 2)
    await pay(api, admin, world.theirs["id"])
    await api.call("PATCH", f"/api/v1/contracts/{world.theirs['id']}", token=admin,
                   json={"title": "South client renamed"})
    await contract(api, admin, "Another south", groups=[world.south["id"]])
    # a contract moved into North is seen from then on, and out of it no longer
    await api.call("PATCH", f"/api/v1/contracts/{world.theirs['id']}", token=admin,
                   json={"groups": [world.north["id"]]})
    await pay(api, admin, world.theirs["id"], "1.00")
    # (visibility is decided when the event is handed out, by the groups then)
    await wait_until(lambda: any(e["data"].get("amount") == "1.00" for e in received))
    await api.call("PATCH", f"/api/v1/contracts/{world.theirs['id']}", token=admin,
                   json={"groups": [world.south["id"]]})
    await pay(api, admin, world.theirs["id"], "2.00")
    await pay(api, admin, world.ours["id"], "3.00")
    await wait_until(lambda: any(e["contract_id"] == world.ours["id"] for e in received))
    await wait_until(lambda: len(seen_all) == len(stored(api)) - before)
    assert {e["contract_id"] for e in seen_all} >= {world.theirs["id"], world.ours["id"]}
    amounts = [e["data"].get("amount") for e in received if e["type"] == "payment.created"]
    assert amounts == ["1.00", "3.00"]
    theirs = [e["type"] for e in received if e["contract_id"] == world.theirs["id"]]
    assert theirs[0] == "contract.changed" and "contract.changed" in theirs[1:]
    assert all(e["contract_id"] in (world.ours["id"], world.theirs["id"]) for e in received)
    await stop(client, follower)
    await stop(everything, all_of_it)


@pytest_twisted.ensureDeferred
async def test_reconnecting_with_last_event_id_misses_nothing_and_repeats_nothing(api):
    admin = await api.admin()
    made = await contract(api, admin, "Resumed")
    client, follower, first = follow(api, admin)
    await wait_until(lambda: follower.connected and api.services.live.listeners)
    for n in range(3):
        await pay(api, admin, made["id"], f"{n + 1}.00")
    await wait_until(lambda: len(first) == 6)  # payment.created and balance.changed each
    await stop(client, follower)
    resume_from = follower.last_event_id
    for n in range(4):  # while nobody listens
        await pay(api, admin, made["id"], f"{n + 10}.00")
    client, follower, second = follow(api, admin, resume_from)
    await wait_until(lambda: len(second) >= 8)
    for n in range(2):  # and live again
        await pay(api, admin, made["id"], f"{n + 20}.00")
    await wait_until(lambda: len(second) >= 12)
    await sleep(0.3)
    ids = [event_id for _, event_id in stored(api)]
    assert [e["id"] for e in first + second] == ids[1:]  # all after contract.created, once
    await stop(client, follower)

    # from the very start, and an id that is not one
    client, follower, third = follow(api, admin, "0")
    await wait_until(lambda: len(third) == len(ids))
    assert [e["id"] for e in third] == ids
    await stop(client, follower)
    status, body, _ = await api.call("GET", "/api/v1/events", token=admin,
                                     headers={"Last-Event-ID": "yesterday"})
    assert status == 422 and body["error"]["details"] == {"last_event_id": "yesterday"}


@pytest_twisted.ensureDeferred
async def test_heartbeats_and_the_permission(database, clock):
    settings = Settings().with_overrides(events={"stream_heartbeat_seconds": 0.1})
    api = ApiHarness(database, clock, settings)
    try:
        admin = await api.admin()
        nobody, _ = await api.operator({"payment.create"})
        assert (await api.call("GET", "/api/v1/events", token=nobody))[0] == 403
        assert (await api.call("GET", "/api/v1/events"))[0] == 401
        response = await treq.get(api.url + "/api/v1/events", unbuffered=True,
                                  headers={"Authorization": [f"Bearer {admin}"]})
        assert response.code == 200
        assert response.headers.getRawHeaders("content-type") == [
            "text/event-stream; charset=utf-8"]
        body = Body()
        response.deliverBody(body)
        await wait_until(lambda: body.data.count(b": ping\n\n") >= 3, timeout=5)
        assert body.data.startswith(b"retry: 2000\n\n")
        body.transport.stopProducing()
        await wait_until(lambda: api.services.live.users == 0)
    finally:
        await api.aclose()


@pytest_twisted.ensureDeferred
async def test_a_revoked_token_ends_the_stream(api):
    await api.admin()
    reader, _ = await api.operator({"contract.read"})
    client, follower, _ = follow(api, reader)
    await wait_until(lambda: follower.connected and api.services.live.listeners)
    assert (await api.call("POST", "/api/v1/auth/logout", token=reader))[0] in (200, 204)
    await wait_until(lambda: follower.done.called, timeout=10)
    with pytest.raises(ApiError) as refused:
        await follower.done
    assert refused.value.status == 401
    assert not api.services.live.listeners and api.services.live.users == 0
    await client.close()
