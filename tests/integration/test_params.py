"""Contract parameters through the HTTP API, on SQLite and MariaDB; the type checks alone."""

from __future__ import annotations

from decimal import Decimal

import pytest
import pytest_twisted
from sqlalchemy import select
from twisted.internet.defer import ensureDeferred, gatherResults

from bgserver.billing.errors import Invalid
from bgserver.billing.params import encode, search_text
from bgserver.storage import params as store
from bgserver.storage import words as word_store
from bgserver.storage.schema import contract, contract_param_history, outbox
from bgshared import wire

ADDRESS = {"postcode": "101000", "city": "Москва", "street": "Тверская", "house": "1"}

#: type -> [(what is sent, what comes back)], then values refused.
VALID = {
    "text": [("  Ivanov  ", "Ivanov"), ("x" * 1000, "x" * 1000)],
    "int": [(42, 42), ("-7", -7), (0, 0)],
    "decimal": [("12.50", "12.50"), (Decimal("0.1"), "0.1"), (3, "3"), ("-0", "0")],
    "date": [("2026-02-28", "2026-02-28")],
    "flag": [(True, True), (False, False)],
    "list": [("gold", "gold")],
    "email": [("Ivan.Petrov@Example.RU", "Ivan.Petrov@example.ru")],
    "phone": [("+7 (495) 123-45-67", "+74951234567"), ("8 916 000 11 22", "+89160001122")],
    "address": [(ADDRESS, {**ADDRESS, "flat": None}),
                ({"city": " Тверь ", "street": "Ленина", "house": "2к1", "flat": "5"},
                 {"postcode": None, "city": "Тверь", "street": "Ленина", "house": "2к1",
                  "flat": "5"})],
}
INVALID = {
    "text": ["", "   ", "x" * 1001, 5, None, ["a"]],
    "int": ["4.5", Decimal("4.0"), True, "", "12a", 2 ** 63, {"n": 1}],
    "decimal": [1.5, "1e3", "abc", "NaN", "", True, "1.12345678901", "1" * 31],
    "date": ["2026-02-30", "15.01.2026", "20260115", 20260115, ""],
    "flag": ["true", 1, 0, "yes"],
    "list": ["platinum", "Gold", 1],
    "email": ["no-at-sign", "a@b", "a b@c.ru", "a@@b.ru", "a@b..ru", 7],
    "phone": ["1234", "+7 495 abc", "+" + "1" * 21, "7+495", 79161234567],
    "address": [{"city": "Тверь", "street": "Ленина"}, {**ADDRESS, "country": "RU"},
                {**ADDRESS, "house": ""}, {**ADDRESS, "flat": 5}, "Москва, Тверская 1"],
}


def definition(param_type: str, key: str | None = None) -> dict:
    return {"key": key or f"p_{param_type}", "type": param_type,
            "options": ["silver", "gold"] if param_type == "list" else None}


# -- the type checks alone ---------------------------------------------------------------

@pytest.mark.parametrize("param_type", sorted(VALID))
def test_each_type_keeps_one_canonical_text_and_reads_back_typed(param_type):
    for sent, expected in VALID[param_type]:
        text = encode(definition(param_type), sent)
        typed = store.decode(param_type, text)
        on_the_wire = wire.loads(wire.dumps(typed))
        assert on_the_wire == expected, sent
        assert encode(definition(param_type), on_the_wire) == text  # sent back: the same
        assert not isinstance(typed, float)


@pytest.mark.parametrize("param_type", sorted(INVALID))
def test_each_type_refuses_wrong_values_naming_the_param(param_type):
    for sent in INVALID[param_type]:
        with pytest.raises(Invalid) as caught:
            encode(definition(param_type, "the_key"), sent)
        assert caught.value.details["param"] == "the_key", sent
        assert caught.value.details["type"] == param_type


def test_an_address_is_searched_as_a_readable_line():
    text = encode(definition("address"), {**ADDRESS, "flat": "12"})
    assert search_text("address", text) == "Москва, Тверская, 1, 12, 101000"


# -- over HTTP ------------------------------------------------------------------------

async def setup(api, **contract_body):
    admin = await api.admin()
    status, created, _ = await api.call("POST", "/api/v1/contracts", token=admin,
                                        json={"title": "Ivanov", **contract_body})
    assert status == 201, created
    return admin, created["id"]


async def define(api, token, key, param_type, **flags):
    status, body, _ = await api.call("POST", "/api/v1/params", token=token, json={
        "key": key, "title": key.title(), "type": param_type, **flags})
    assert status == 201, body
    return body


def db_rows(api, query):
    return api.services.database.run_sync(
        "rows", lambda conn: [dict(r._mapping) for r in conn.execute(query)])


@pytest_twisted.ensureDeferred
async def test_every_type_is_stored_and_returned_typed(api):
    admin, cid = await setup(api)
    for param_type in VALID:
        await define(api, admin, f"p_{param_type}", param_type,
                     **({"options": ["silver", "gold"]} if param_type == "list" else {}))
    expected = {}
    for param_type, cases in VALID.items():
        for sent, back in cases:
            status, body, _ = await api.call(
                "PUT", f"/api/v1/contracts/{cid}/params/p_{param_type}", token=admin,
                json={"value": sent})
            assert status == 200, (param_type, body)
            assert body["value"] == back and body["type"] == param_type
            expected[f"p_{param_type}"] = back
    status, body, _ = await api.call("PUT", f"/api/v1/contracts/{cid}/params/p_decimal",
                                     token=admin, json={"value": 1.25})
    assert body["value"] == "1.25"  # a JSON number is read exactly, never through float
    expected["p_decimal"] = "1.25"
    status, listed, _ = await api.call("GET", f"/api/v1/contracts/{cid}/params", token=admin)
    assert status == 200
    assert {i["key"]: i["value"] for i in listed["items"]} == expected
    assert listed["items"][0]["title"] == "P_Text" and listed["items"][0]["updated_at"]
    # the store's view for contract pages: typed Python values
    values = api.services.database.run_sync("values", store.values_of, [cid, cid + 1000])
    assert values[cid + 1000] == {}
    assert values[cid]["p_int"] == 0 and values[cid]["p_decimal"] == Decimal("1.25")
    assert values[cid]["p_flag"] is False and values[cid]["p_date"].isoformat() == "2026-02-28"


@pytest_twisted.ensureDeferred
async def test_wrong_values_are_422_naming_the_param_and_change_nothing(api):
    admin, cid = await setup(api)
    for param_type, wrong in INVALID.items():
        key = f"p_{param_type}"
        await define(api, admin, key, param_type,
                     **({"options": ["silver", "gold"]} if param_type == "list" else {}))
        for sent in wrong:
            if isinstance(sent, float):  # a JSON number arrives as an exact Decimal
                continue
            status, body, _ = await api.call("PUT", f"/api/v1/contracts/{cid}/params/{key}",
                                             token=admin, json={"value": sent})
            assert status == 422, (param_type, sent, body)
            assert body["error"]["code"] == "validation_failed"
            if sent == 2 ** 63:  # no number past 2**63 - 1 gets past the body parser
                assert "9223372036854775807" in body["error"]["details"][0]["message"]
                continue
            assert body["error"]["details"]["param"] == key
    for sent in ({}, {"value": 1, "extra": 2}):
        status, _, _ = await api.call("PUT", f"/api/v1/contracts/{cid}/params/p_int",
                                      token=admin, json=sent)
        assert status == 422
    status, listed, _ = await api.call("GET", f"/api/v1/contracts/{cid}/params", token=admin)
    assert listed["items"] == []


@pytest_twisted.ensureDeferred
async def test_definitions_are_checked_unique_and_audited(api):
    admin, _ = await setup(api)
    tariff = await define(api, admin, "tariff_class", "list", options=["silver", "gold"],
                          cabinet_read=True)
    assert tariff["options"] == ["silver", "gold"] and tariff["cabinet_read"] is True
    assert tariff["history"] is False and tariff["cabinet_write"] is False
    for body in ({"key": "l1", "title": "L", "type": "list"},
                 {"key": "l2", "title": "L", "type": "list", "options": []},
                 {"key": "l3", "title": "L", "type": "list", "options": ["a", "a"]},
                 {"key": "t1", "title": "T", "type": "text", "options": ["a"]},
                 {"key": "x1", "title": "X", "type": "money"},
                 {"key": "Bad Key", "title": "X", "type": "text"}):
        status, answer, _ = await api.call("POST", "/api/v1/params", token=admin, json=body)
        assert status == 422, (body, answer)
    status, answer, _ = await api.call("POST", "/api/v1/params", token=admin, json={
        "key": "tariff_class", "title": "Again", "type": "text"})
    assert status == 409 and answer["error"]["code"] == "conflict"
    status, listed, _ = await api.call("GET", "/api/v1/params", token=admin)
    assert [d["key"] for d in listed["items"]] == ["tariff_class"]
    status, log, _ = await api.call("GET", "/api/v1/audit?action=param.create", token=admin)
    [row] = log["items"]
    assert row["after"]["param"] == "tariff_class" and row["after"]["options"] == [
        "silver", "gold"]


@pytest_twisted.ensureDeferred
async def test_history_is_kept_only_with_the_flag_and_every_change_is_audited(api):
    admin, cid = await setup(api)
    await define(api, admin, "email", "email", history=True)
    await define(api, admin, "note", "text")
    path = f"/api/v1/contracts/{cid}/params"
    for value in ("a@x.ru", "b@x.ru", "b@x.ru"):  # the last changes nothing
        assert (await api.call("PUT", f"{path}/email", token=admin, json={"value": value}))[0] \
            == 200
    await api.call("PUT", f"{path}/note", token=admin, json={"value": "first"})
    await api.call("PUT", f"{path}/note", token=admin, json={"value": "second"})
    status, removed, _ = await api.call("DELETE", f"{path}/email", token=admin)
    assert status == 200 and removed["value"] is None
    assert (await api.call("DELETE", f"{path}/email", token=admin))[0] == 404

    status, history, _ = await api.call("GET", f"{path}/email/history", token=admin)
    assert status == 200
    assert [h["value"] for h in history["items"]] == [None, "b@x.ru", "a@x.ru"]
    assert {h["actor_type"] for h in history["items"]} == {"operator"}
    assert all(h["actor_name"].startswith("op") and h["actor_id"]
               for h in history["items"])
    assert (await api.call("GET", f"{path}/note/history", token=admin))[1]["items"] == []

    status, log, _ = await api.call(
        "GET", f"/api/v1/audit?contract_id={cid}&action=contract.param_set", token=admin)
    changes = [(r["before"]["value"], r["after"]["value"]) for r in reversed(log["items"])]
    assert changes == [(None, "a@x.ru"), ("a@x.ru", "b@x.ru"), (None, "first"),
                       ("first", "second"), ("b@x.ru", None)]
    assert log["items"][0]["before"]["param"] == "email"
    events = db_rows(api, select(outbox.c.payload).where(
        outbox.c.type == "contract.changed", outbox.c.contract_id == cid))
    assert len(events) == 5
    assert wire.loads(events[0]["payload"])["data"] == {"params": ["email"]}
    assert len(db_rows(api, select(contract_param_history))) == 3


@pytest_twisted.ensureDeferred
async def test_concurrent_changes_of_one_value_all_land_in_order(api):
    admin, cid = await setup(api)
    await define(api, admin, "speed", "int", history=True)
    answers = await gatherResults([ensureDeferred(api.call(
        "PUT", f"/api/v1/contracts/{cid}/params/speed", token=admin, json={"value": n}))
        for n in range(1, 11)])
    assert [a[0] for a in answers] == [200] * 10
    history = (await api.call("GET", f"/api/v1/contracts/{cid}/params/speed/history",
                              token=admin))[1]["items"]
    assert sorted(h["value"] for h in history) == list(range(1, 11))
    current = (await api.call("GET", f"/api/v1/contracts/{cid}/params", token=admin))[1]
    assert current["items"][0]["value"] == history[0]["value"]  # the last change wins


@pytest_twisted.ensureDeferred
async def test_unknown_param_or_contract_is_404(api):
    admin, cid = await setup(api)
    await define(api, admin, "note", "text")
    for method, path, body in (
            ("PUT", f"/api/v1/contracts/{cid}/params/nope", {"value": "x"}),
            ("DELETE", f"/api/v1/contracts/{cid}/params/nope", None),
            ("GET", f"/api/v1/contracts/{cid}/params/nope/history", None),
            ("GET", f"/api/v1/contracts/{cid + 1000}/params", None),
            ("PUT", f"/api/v1/contracts/{cid + 1000}/params/note", {"value": "x"})):
        status, answer, _ = await api.call(method, path, token=admin, json=body)
        assert status == 404 and answer["error"]["code"] == "not_found", (method, path)


@pytest_twisted.ensureDeferred
async def test_a_contract_outside_the_operators_groups_is_not_found(api):
    admin = await api.admin()
    made = await api.north_and_south(admin)
    north, ours, theirs = made.north, made.ours["id"], made.theirs["id"]
    await define(api, admin, "note", "text", history=True)
    await api.call("PUT", f"/api/v1/contracts/{theirs}/params/note", token=admin,
                   json={"value": "secret"})
    token, _ = await api.operator({"contract.read", "contract.write"}, groups=[north["id"]])
    assert (await api.call("PUT", f"/api/v1/contracts/{ours}/params/note", token=token,
                           json={"value": "mine"}))[0] == 200
    for method, suffix, body in (("GET", "", None), ("PUT", "/note", {"value": "x"}),
                                 ("DELETE", "/note", None), ("GET", "/note/history", None)):
        status, answer, _ = await api.call(method, f"/api/v1/contracts/{theirs}/params{suffix}",
                                           token=token, json=body)
        assert status == 404, (method, suffix, answer)
        assert "secret" not in str(answer)
    listed = (await api.call("GET", f"/api/v1/contracts/{theirs}/params", token=admin))[1]
    assert [i["value"] for i in listed["items"]] == ["secret"]


@pytest_twisted.ensureDeferred
async def test_each_route_needs_its_permission(api):
    admin, cid = await setup(api)
    await define(api, admin, "note", "text")
    reader, _ = await api.operator({"contract.read"})
    nobody, _ = await api.operator(set())
    writes = (("PUT", f"/api/v1/contracts/{cid}/params/note", {"value": "x"}),
              ("DELETE", f"/api/v1/contracts/{cid}/params/note", None))
    reads = (("GET", "/api/v1/params", None), ("GET", f"/api/v1/contracts/{cid}/params", None),
             ("GET", f"/api/v1/contracts/{cid}/params/note/history", None))
    for method, path, body in writes:
        status, answer, _ = await api.call(method, path, token=reader, json=body)
        assert status == 403 and answer["error"]["details"] == {"permission": "contract.write"}
    # a definition is a global directory: contract.write is not enough
    writer, _ = await api.operator({"contract.read", "contract.write"})
    status, answer, _ = await api.call("POST", "/api/v1/params", token=writer,
                                       json={"key": "k", "title": "K", "type": "text"})
    assert status == 403 and answer["error"]["details"] == {"permission": "directory.write"}
    for method, path, body in reads:
        assert (await api.call(method, path, token=reader))[0] == 200
        status, answer, _ = await api.call(method, path, token=nobody)
        assert status == 403 and answer["error"]["details"] == {"permission": "contract.read"}
        assert (await api.call(method, path))[0] == 401


@pytest_twisted.ensureDeferred
async def test_search_condition_matches_value_words_case_insensitively(api):
    admin, first = await setup(api)
    second = (await api.call("POST", "/api/v1/contracts", token=admin,
                             json={"title": "Petrov"}))[1]["id"]
    await define(api, admin, "phone", "phone")
    await define(api, admin, "note", "text")
    await define(api, admin, "address", "address")
    path = "/api/v1/contracts/{}/params/{}"
    for cid, key, value in ((first, "phone", "+7 495 123-45-67"), (first, "note", "50%_off"),
                            (second, "note", "Fiber 100"), (second, "address", ADDRESS)):
        assert (await api.call("PUT", path.format(cid, key), token=admin,
                               json={"value": value}))[0] == 200

    def found(q):
        return api.services.database.run_sync("search", lambda conn: sorted(
            r.id for r in conn.execute(select(contract.c.id).where(
                word_store.condition(contract.c.id, q)))))

    assert found("fiber") == [second]
    assert found("FIBER 1") == [second]
    assert found("50%") == [first]
    assert found("5%") == []       # % is a character, not a wildcard
    assert found("50__off") == []  # nor is _
    assert found("+7495") == [first]
    assert found("7 (495) 12") == [first]
    assert found("москва") == [second]
    assert found("нет такого") == []

