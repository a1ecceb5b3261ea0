"""Contracts through the API on SQLite and MariaDB: numbers, search, paging, changes."""

from __future__ import annotations

import pytest_twisted
from sqlalchemy import select

from bgserver.storage.schema import outbox


async def make(api, token, **body):
    status, created, _ = await api.call("POST", "/api/v1/contracts", token=token, json=body)
    assert status == 201, created
    return created


@pytest_twisted.ensureDeferred
async def test_numbers_come_from_the_pattern_or_are_given_and_unique(api):
    token = await api.admin()
    first, second = await make(api, token, title="A"), await make(api, token, title="B")
    assert (first["number"], second["number"]) == ("A-26-0001", "A-26-0002")
    await make(api, token, title="C", number="A-26-0003")  # taken by hand...
    assert (await make(api, token, title="D"))["number"] == "A-26-0004"  # ...and skipped
    status, body, _ = await api.call("POST", "/api/v1/contracts", token=token,
                                     json={"title": "E", "number": "A-26-0001"})
    assert status == 409 and body["error"]["code"] == "conflict"
    assert first["status"] == "active" and first["balance"] == "0.00"
    assert first["date_from"] == "2026-01-15" and first["params"] == {}


@pytest_twisted.ensureDeferred
async def test_search_by_number_title_or_parameter_with_paging(api):
    token = await api.admin()
    status, _, _ = await api.call("POST", "/api/v1/params", token=token, json={
        "key": "street", "title": "Street", "type": "text"})
    assert status == 201
    made = [await make(api, token, title=f"Petrov {n}") for n in range(7)]
    sidorov = await make(api, token, title="Sidorov", number="B-100")
    await api.call("PUT", f"/api/v1/contracts/{made[3]['id']}/params/street", token=token,
                   json={"value": "Tverskaya 7"})

    async def search(query):
        status, body, _ = await api.call("GET", f"/api/v1/contracts?{query}", token=token)
        assert status == 200, body
        return body

    assert [c["id"] for c in (await search("q=petrov"))["items"]] == [c["id"] for c in made]
    assert [c["id"] for c in (await search("q=B-1"))["items"]] == [sidorov["id"]]
    found = (await search("q=tverskaya"))["items"]
    assert [c["id"] for c in found] == [made[3]["id"]]
    assert found[0]["params"] == {"street": "Tverskaya 7"}
    assert (await search("q=%25"))["items"] == []  # a LIKE wildcard is only a character
    pages, cursor = [], None
    while True:
        page = await search("limit=3" + (f"&cursor={cursor}" if cursor else ""))
        pages.append([c["id"] for c in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [len(p) for p in pages] == [3, 3, 2]
    assert sum(pages, []) == [c["id"] for c in made] + [sidorov["id"]]
    assert (await api.call("GET", "/api/v1/contracts?limit=many", token=token))[0] == 422
    assert (await api.call("GET", "/api/v1/contracts?cursor=x", token=token))[0] == 422


@pytest_twisted.ensureDeferred
async def test_changes_are_checked_and_announced(api):
    token = await api.admin()
    created = await make(api, token, title="Old", cabinet_password="cabinet-1")
    path = f"/api/v1/contracts/{created['id']}"
    status, changed, _ = await api.call("PATCH", path, token=token, json={
        "title": "New", "comment": "moved", "person_type": "company"})
    assert status == 200 and (changed["title"], changed["person_type"]) == ("New", "company")
    for body in ({"title": ""}, {"mode": "credit"}, {"limit": "1.234"}, {"title": None},
                 {"date_to": "2020-01-01"}, {"groups": [999]}, {"balance": "100.00"}):
        status, answer, _ = await api.call("PATCH", path, token=token, json=body)
        assert status == 422, (body, answer)
    assert (await api.call("GET", path, token=token))[1]["title"] == "New"
    assert "cabinet_password_hash" not in changed
    events = api.services.database.run_sync("events", lambda c: c.execute(
        select(outbox.c.type).where(outbox.c.contract_id == created["id"])
        .order_by(outbox.c.id)).scalars().all())
    assert events == ["contract.created", "contract.changed"]
    assert (await api.call("GET", "/api/v1/contracts/99999", token=token))[0] == 404
