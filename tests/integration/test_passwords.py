"""Passwords that may be set, and logins unique regardless of case."""

from __future__ import annotations

import pytest
import pytest_twisted

from tests.integration.test_cli import cli, shell  # noqa: F401 - the fixture


def problem(body):
    assert body["error"]["code"] == "validation_failed", body
    return [(d["field"], d["message"]) for d in body["error"]["details"]]


@pytest.mark.parametrize("login, password, message", [
    ("kassa", "short1", "String should have at least 8 characters"),
    ("kassa-01", "KASSA-01", "must not be the login"),
    ("kassa-01", "  Kassa-01 ", "must not be the login"),
    ("kassa", "Qwerty123", "is one of the most common passwords; choose another"),
    ("kassa", "пароль123", "is one of the most common passwords; choose another"),
])
@pytest_twisted.ensureDeferred
async def test_a_weak_operator_password_is_refused(sqlite_api, login, password, message):
    token = await sqlite_api.admin()
    status, body, _ = await sqlite_api.call("POST", "/api/v1/users", token=token, json={
        "login": login, "name": "K", "password": password})
    assert status == 422
    assert problem(body) == [("password", message)]
    assert len((await sqlite_api.call("GET", "/api/v1/users", token=token))[1]["items"]) == 1


@pytest_twisted.ensureDeferred
async def test_spaces_around_a_password_are_part_of_it(sqlite_api):
    token = await sqlite_api.admin()
    status, user, _ = await sqlite_api.call("POST", "/api/v1/users", token=token, json={
        "login": "kassa", "password": "  two spaces before  "})
    assert status == 201, user
    assert (await sqlite_api.call("POST", "/api/v1/auth/login", json={
        "login": "kassa", "password": "two spaces before"}))[0] == 401
    await sqlite_api.login("kassa", "  two spaces before  ")
    status, body, _ = await sqlite_api.call("PATCH", f"/api/v1/users/{user['id']}",
                                            token=token, json={"password": "password1"})
    assert (status, problem(body)) == (422, [
        ("password", "is one of the most common passwords; choose another")])
    status, body, _ = await sqlite_api.call("PATCH", f"/api/v1/users/{user['id']}",
                                            token=token, json={"password": "Kassa"})
    assert status == 422


@pytest_twisted.ensureDeferred
async def test_a_weak_cabinet_password_is_refused(sqlite_api):
    token = await sqlite_api.admin()
    status, body, _ = await sqlite_api.call("POST", "/api/v1/contracts", token=token, json={
        "title": "Weak", "number": "B-2026-0001", "cabinet_password": "b-2026-0001"})
    assert (status, problem(body)) == (422, [("cabinet_password", "must not be the login")])
    status, contract, _ = await sqlite_api.call("POST", "/api/v1/contracts", token=token,
                                                json={"title": "Fine"})
    assert status == 201
    for weak, message in ((contract["number"], "must not be the login"),
                          ("12345678", "is one of the most common passwords; choose another")):
        status, body, _ = await sqlite_api.call(
            "PATCH", f"/api/v1/contracts/{contract['id']}", token=token,
            json={"cabinet_password": weak})
        assert (status, problem(body)) == (422, [("cabinet_password", message)])
    status, _, _ = await sqlite_api.call("PATCH", f"/api/v1/contracts/{contract['id']}",
                                         token=token, json={"cabinet_password": " a fine one "})
    assert status == 200


@pytest_twisted.ensureDeferred
async def test_operator_logins_are_unique_regardless_of_case(api):
    token = await api.admin()
    status, _, _ = await api.call("POST", "/api/v1/users", token=token, json={
        "login": "Ivanov", "password": "a good password"})
    assert status == 201
    for login in ("ivanov", "IVANOV"):
        status, body, _ = await api.call("POST", "/api/v1/users", token=token, json={
            "login": login, "password": "a good password"})
        assert (status, body["error"]["code"]) == (409, "conflict"), body


def test_the_command_line_refuses_a_weak_password(shell):  # noqa: F811
    env, cwd, _ = shell
    result = cli(["user", "add", "kassa", "--role", "admin"], env, cwd, stdin="kassa123\n",
                 check=False)
    assert result.returncode != 0
    assert "common passwords" in result.stderr
    result = cli(["user", "passwd", "admin"], env, cwd, stdin="Admin\n", check=False)
    assert result.returncode != 0 and "8 characters" in result.stderr
