"""The outbox tables on SQLite and MariaDB: events commit with their change, claims keep
concurrent relays apart, pruning keeps what is still to be published."""

from datetime import timedelta

import pytest
import pytest_twisted
from sqlalchemy import insert

from bgserver.events.outbox import claim_batch, emit, finish_batch, pending_count, prune
from bgserver.storage.schema import operator


@pytest_twisted.ensureDeferred
async def test_emit_is_part_of_the_callers_transaction(database, clock):
    def change_then_fail(conn):
        emit(conn, "contract.created", {"n": 1}, occurred_at=clock.now())
        conn.execute(insert(operator).values(login="x", password_hash="h",
                                             created_at=clock.now()))
        raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        await database.run("failing_change", change_then_fail)
    assert await database.run("count", pending_count) == 0

    await database.run("good_change", emit, "contract.created", {"n": 2},
                       occurred_at=clock.now())
    assert await database.run("count", pending_count) == 1


@pytest_twisted.ensureDeferred
async def test_claims_keep_two_relays_apart(database, clock):
    for n in range(5):
        await database.run("emit", emit, "t.x", {"n": n}, occurred_at=clock.now())
    first = await database.run("claim", claim_batch, "relay-a", clock.now(), 3)
    second = await database.run("claim", claim_batch, "relay-b", clock.now(), 10)
    assert [e.data["n"] for e in first] == [0, 1, 2]
    assert [e.data["n"] for e in second] == [3, 4]
    # relay-a published two of its three; the third is free again at once
    await database.run("finish", finish_batch, "relay-a", [first[0].id, first[1].id],
                       clock.now())
    again = await database.run("claim", claim_batch, "relay-c", clock.now(), 10)
    assert [e.data["n"] for e in again] == [2]
    # a claim whose relay died lapses and is taken over
    later = clock.now() + timedelta(minutes=5)
    lapsed = await database.run("claim", claim_batch, "relay-d", later, 10)
    assert sorted(e.data["n"] for e in lapsed) == [2, 3, 4]


@pytest_twisted.ensureDeferred
async def test_prune_deletes_only_old_published_events(database, clock):
    for n in range(3):
        await database.run("emit", emit, "t.x", {"n": n}, occurred_at=clock.now())
    batch = await database.run("claim", claim_batch, "r", clock.now(), 2)
    await database.run("finish", finish_batch, "r", [e.id for e in batch], clock.now())
    assert await database.run("prune", prune, clock.now() - timedelta(days=1)) == 0
    assert await database.run("prune", prune, clock.now() + timedelta(seconds=1)) == 2
    assert await database.run("count", pending_count) == 1
