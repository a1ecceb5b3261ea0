"""Contract search over HTTP on SQLite and MariaDB: the start of any word of the number, the
title and parameter values, any case, Cyrillic too, kept up to date by every change."""

from __future__ import annotations

from urllib.parse import quote

import pytest
import pytest_twisted

from bgserver.storage.words import words_of


def test_words_are_tokens_and_their_parts_folded():
    assert words_of("Petrov  IVAN") == {"petrov", "ivan"}
    assert words_of("A-26-0007") == {"a-26-0007", "a", "26", "0007"}
    assert words_of("Петров Иван-Ёжиков") == {"петров", "иван-ёжиков", "иван", "ёжиков"}
    assert words_of("Straße") == {"strasse"}
    assert words_of(None) == set() and words_of("  ") == set()


async def make(api, token, **body):
    status, created, _ = await api.call("POST", "/api/v1/contracts", token=token, json=body)
    assert status == 201, created
    return created["id"]


async def found(api, token, q):
    status, body, _ = await api.call("GET", f"/api/v1/contracts?q={quote(q)}", token=token)
    assert status == 200, body
    return [c["id"] for c in body["items"]]


@pytest_twisted.ensureDeferred
async def test_any_word_start_in_any_case_and_alphabet(api):
    admin = await api.admin()
    petrov = await make(api, admin, title="Petrov Ivan", number="A-26-0101")
    russian = await make(api, admin, title="Петров Иван Сергеевич", number="Б-7")
    company = await make(api, admin, title="OOO «Romashka»-Service", number="C/42")
    for q, expected in (("ivan", [petrov]), ("IVAN", [petrov]), ("Iv", [petrov]),
                        ("pet", [petrov]), ("etrov", []), ("ива", [russian]),
                        ("ИВА", [russian]), ("петр", [russian]), ("серг", [russian]),
                        ("б-7", [russian]), ("romashka", [company]), ("serv", [company]),
                        ("«romashka»-service", [company]), ("42", [company]),
                        ("c/4", [company]), ("a-26-01", [petrov]), ("0101", [petrov]),
                        ("26", [petrov]), ("p", [petrov]),
                        ("ivan petrov", [petrov]), ("petrov  ivan", [petrov]),
                        ("petrov sergey", []), ("иван петров", [russian]),
                        ("%", []), ("_", []), ("i%", [])):
        assert await found(api, admin, q) == expected, q


@pytest_twisted.ensureDeferred
async def test_parameter_values_and_changes_keep_the_words_current(api):
    admin = await api.admin()
    for key, param_type in (("street", "text"), ("address", "address"), ("phone", "phone")):
        status, body, _ = await api.call("POST", "/api/v1/params", token=admin, json={
            "key": key, "title": key.title(), "type": param_type})
        assert status == 201, body
    first = await make(api, admin, title="Sidorov")
    second = await make(api, admin, title="Smirnova Anna")
    path = "/api/v1/contracts/{}/params/{}"
    for cid, key, value in ((first, "street", "Tverskaya 7"),
                            (second, "address", {"city": "Москва", "street": "Лесная",
                                                 "house": "5"}),
                            (second, "phone", "+7 (495) 123-45-67")):
        status, body, _ = await api.call("PUT", path.format(cid, key), token=admin,
                                         json={"value": value})
        assert status == 200, body
    assert await found(api, admin, "tver") == [first]
    assert await found(api, admin, "sidorov tverskaya 7") == [first]
    assert await found(api, admin, "лесн") == [second]
    assert await found(api, admin, "МОСКВА ЛЕС") == [second]
    assert await found(api, admin, "+7495") == [second]
    assert await found(api, admin, "7495123") == [second]
    assert await found(api, admin, "7 (495) 12") == [second]

    # a changed value replaces its words, a removed one takes them away
    assert (await api.call("PUT", path.format(first, "street"), token=admin,
                           json={"value": "Arbat 1"}))[0] == 200
    assert await found(api, admin, "tver") == []
    assert await found(api, admin, "arbat") == [first]
    assert (await api.call("DELETE", path.format(first, "street"), token=admin))[0] == 200
    assert await found(api, admin, "arbat") == []
    assert await found(api, admin, "sidorov") == [first]  # the title's words stay

    # a changed title replaces the title's words, not the parameters'
    status, body, _ = await api.call("PATCH", f"/api/v1/contracts/{second}", token=admin,
                                     json={"title": "Kuznetsova Anna"})
    assert status == 200, body
    assert await found(api, admin, "smirnova") == []
    assert await found(api, admin, "kuzn") == [second]
    assert await found(api, admin, "anna лесная") == [second]


@pytest_twisted.ensureDeferred
async def test_another_groups_contracts_are_never_found_and_paging_stays(api):
    admin = await api.admin()
    world = await api.north_and_south(admin)
    northerner, _ = await api.operator({"contract.read"}, groups=[world.north["id"]])
    more = [await make(api, admin, title=f"North client {n}", groups=[world.north["id"]])
            for n in range(4)]
    assert await found(api, admin, "client") == [world.ours["id"], world.theirs["id"], *more]
    assert await found(api, northerner, "client") == [world.ours["id"], *more]
    assert await found(api, northerner, "south") == []
    pages, cursor = [], None
    while True:
        status, body, _ = await api.call(
            "GET", "/api/v1/contracts?q=client&limit=2" + (f"&cursor={cursor}" if cursor
                                                            else ""), token=northerner)
        assert status == 200, body
        pages.append([c["id"] for c in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == [[world.ours["id"], more[0]], more[1:3], [more[3]]]


@pytest.mark.parametrize("q", ["", "   "])
@pytest_twisted.ensureDeferred
async def test_an_empty_search_lists_every_contract(api, q):
    admin = await api.admin()
    made = [await make(api, admin, title=f"T{n}") for n in range(3)]
    assert await found(api, admin, q) == made
