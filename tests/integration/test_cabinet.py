"""The subscriber cabinet over real HTTP, on SQLite and MariaDB: signing in and out, the
session cookie, CSRF, what a subscriber sees and changes, and that it is only their own."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest
import pytest_twisted
from sqlalchemy import select

from bgserver.billing import statuses
from bgserver.billing.access import subscriber_caller
from bgserver.billing.errors import NotFound
from bgserver.storage.schema import audit, contract_param_history, login_attempt
from tests.support.cabinet import Subscriber

OURS, THEIRS = "ours-secret", "theirs-secret"
NBSP = "\u00a0"


async def setup(api) -> SimpleNamespace:
    """Two contracts in two groups with cabinet passwords, money and parameters, and
    tariff plans: one offered to our group, one to theirs."""
    admin = await api.admin()
    made = await api.north_and_south(admin)
    for contract, password in ((made.ours, OURS), (made.theirs, THEIRS)):
        status, _, _ = await api.call("PATCH", f"/api/v1/contracts/{contract['id']}",
                                      token=admin, json={"cabinet_password": password})
        assert status == 200
    for key, kind, read, write in (("email", "email", True, True),
                                   ("note", "text", True, False),
                                   ("secret_note", "text", False, False),
                                   ("nickname", "text", True, True)):
        status, body, _ = await api.call("POST", "/api/v1/params", token=admin, json={
            "key": key, "title": key.title(), "type": kind, "cabinet_read": read,
            "cabinet_write": write, "history": True})
        assert status == 201, body
    await api.call("PUT", f"/api/v1/contracts/{made.theirs['id']}/params/email", token=admin,
                   json={"value": "theirs@example.com"})
    await api.call("PUT", f"/api/v1/contracts/{made.theirs['id']}/params/secret_note",
                   token=admin, json={"value": "THEIR-SECRET-NOTE"})
    await api.call("PUT", f"/api/v1/contracts/{made.ours['id']}/params/secret_note",
                   token=admin, json={"value": "OUR-HIDDEN-NOTE"})
    for contract, amount, comment in ((made.ours, "1234.50", "our payment"),
                                      (made.theirs, "777.00", "THEIR-PAYMENT")):
        status, body, _ = await api.call("POST", f"/api/v1/contracts/{contract['id']}/payments",
                                         token=admin, json={"amount": amount,
                                                            "comment": comment})
        assert status == 201, body
    await api.call("POST", f"/api/v1/contracts/{made.ours['id']}/charges", token=admin,
                   json={"amount": "34.50", "comment": "our charge"})
    plans = {}
    for name, group in (("Ours-plan", made.north), ("Their-plan", made.south),
                        ("Start", None)):
        status, body, _ = await api.call("POST", "/api/v1/tariffs", token=admin, json={
            "title": name, "groups": [group["id"]] if group else []})
        assert status == 201, body
        plans[name] = body
    for contract in (made.ours, made.theirs):
        status, body, _ = await api.call(
            "POST", f"/api/v1/contracts/{contract['id']}/tariffs", token=admin,
            json={"tariff_id": plans["Start"]["id"], "from": "2026-01-15"})
        assert status == 201, body
    return SimpleNamespace(admin=admin, ours=made.ours, theirs=made.theirs, plans=plans)


async def signed_in(api, setup_: SimpleNamespace, lang: str = "ru") -> Subscriber:
    subscriber = Subscriber(api, lang)
    page = await subscriber.login(setup_.ours["number"], OURS)
    assert page.status == 303 and page.location == "/cabinet/", page
    return subscriber


def rows(api, table, *where):
    def read(conn):
        return [dict(r._mapping) for r in conn.execute(select(table).where(*where))]
    return api.services.database.run("test_read", read)


# -- signing in ----------------------------------------------------------------------------

@pytest_twisted.ensureDeferred
async def test_login_sets_a_strict_cookie_and_shows_the_overview(api):
    s = await setup(api)
    subscriber = Subscriber(api)
    assert (await subscriber.get("/cabinet/")).location == "/cabinet/login"
    login_page = await subscriber.get("/cabinet/login")
    assert 'name="number"' in login_page.text and login_page.csrf
    page = await subscriber.post("/cabinet/login", {"number": s.ours["number"],
                                                    "password": OURS})
    assert page.status == 303 and page.location == "/cabinet/"
    session_cookie = next(c for c in subscriber.set_cookies if c.startswith("bgcab_session="))
    assert "HttpOnly" in session_cookie and "SameSite=lax" in session_cookie
    assert "Path=/cabinet/" in session_cookie and "Secure" not in session_cookie  # plain HTTP
    overview = await subscriber.get("/cabinet/")
    assert overview.status == 200
    assert f"1{NBSP}200,00{NBSP}₽" in overview.text  # 1234.50 paid, 34.50 charged
    assert s.ours["number"] in overview.text and s.theirs["number"] not in overview.text
    assert "default-src 'none'" in overview.header("content-security-policy")
    attempts = await rows(api, login_attempt, login_attempt.c.realm == "cabinet")
    assert [(a["login"], a["success"]) for a in attempts] == [(s.ours["number"], True)]


@pytest_twisted.ensureDeferred
async def test_a_wrong_password_or_number_is_refused_alike(api):
    s = await setup(api)
    subscriber = Subscriber(api)
    for number, password in ((s.ours["number"], THEIRS), ("NO-SUCH-1", OURS),
                             (s.ours["number"], "")):
        page = await subscriber.login(number, password)
        assert page.status == 401
        assert "Неверный номер договора или пароль" in page.text
        assert "bgcab_session" not in subscriber.cookies


@pytest_twisted.ensureDeferred
async def test_repeated_failures_answer_429_even_for_the_right_password(sqlite_api):
    api = sqlite_api
    s = await setup(api)
    subscriber = Subscriber(api, "en")
    for _ in range(api.settings.auth.max_failures_per_login):
        assert (await subscriber.login(s.ours["number"], "wrong-one")).status == 401
    page = await subscriber.login(s.ours["number"], OURS)
    assert page.status == 429 and page.header("retry-after") == "900"
    assert "Too many failed attempts" in page.text
    assert "bgcab_session" not in subscriber.cookies


@pytest_twisted.ensureDeferred
async def test_the_login_form_needs_its_csrf_token(sqlite_api):
    api = sqlite_api
    s = await setup(api)
    subscriber = Subscriber(api)
    await subscriber.get("/cabinet/login")  # the login cookie is set
    for token in ("", "forged"):
        page = await subscriber.request("POST", "/cabinet/login", form={
            "number": s.ours["number"], "password": OURS, "csrf_token": token})
        assert page.status == 403 and "bgcab_session" not in subscriber.cookies
    stranger = Subscriber(api)  # a token, but not from its own login cookie
    page = await stranger.request("POST", "/cabinet/login", form={
        "number": s.ours["number"], "password": OURS,
        "csrf_token": (await subscriber.get("/cabinet/login")).csrf})
    assert page.status == 403 and "bgcab_session" not in stranger.cookies


# -- ending sessions -----------------------------------------------------------------------

@pytest_twisted.ensureDeferred
async def test_the_cookie_is_dead_after_logout(api):
    s = await setup(api)
    subscriber = await signed_in(api, s)
    cookie = subscriber.cookies["bgcab_session"]
    page = await subscriber.post("/cabinet/logout", {}, csrf_from="/cabinet/")
    assert page.status == 303 and page.location.startswith("/cabinet/login")
    assert "bgcab_session" not in subscriber.cookies
    subscriber.cookies["bgcab_session"] = cookie  # kept by an attacker
    assert (await subscriber.get("/cabinet/")).location == "/cabinet/login"


@pytest_twisted.ensureDeferred
async def test_the_cookie_is_dead_after_a_password_change_in_the_cabinet(api):
    s = await setup(api)
    subscriber = await signed_in(api, s)
    other_device = await signed_in(api, s)
    cookie = subscriber.cookies["bgcab_session"]
    page = await subscriber.post("/cabinet/password", {
        "current": OURS, "new": "brand-new-1", "repeat": "brand-new-1"})
    assert page.status == 303 and page.location == "/cabinet/login?done=password"
    subscriber.cookies["bgcab_session"] = cookie
    for browser in (subscriber, other_device):
        assert (await browser.get("/cabinet/")).location == "/cabinet/login"
    assert (await Subscriber(api).login(s.ours["number"], OURS)).status == 401
    assert (await Subscriber(api).login(s.ours["number"], "brand-new-1")).status == 303


@pytest_twisted.ensureDeferred
async def test_a_wrong_current_password_or_a_mismatch_changes_nothing(sqlite_api):
    api = sqlite_api
    s = await setup(api)
    subscriber = await signed_in(api, s, "en")
    for form, message in (
            ({"current": "nope", "new": "brand-new-1", "repeat": "brand-new-1"},
             "The current password is wrong"),
            ({"current": OURS, "new": "brand-new-1", "repeat": "brand-new-2"},
             "The new passwords differ"),
            ({"current": OURS, "new": "short", "repeat": "short"}, "6 to 1024")):
        page = await subscriber.post("/cabinet/password", form)
        assert page.status == 422 and message in page.text
    assert (await subscriber.get("/cabinet/")).status == 200
    assert (await Subscriber(api).login(s.ours["number"], OURS)).status == 303


@pytest_twisted.ensureDeferred
async def test_an_operator_resetting_the_password_ends_the_sessions(api):
    s = await setup(api)
    subscriber = await signed_in(api, s)
    status, _, _ = await api.call("PATCH", f"/api/v1/contracts/{s.ours['id']}",
                                  token=s.admin, json={"cabinet_password": "reset-by-op"})
    assert status == 200
    assert (await subscriber.get("/cabinet/")).location == "/cabinet/login"


@pytest_twisted.ensureDeferred
async def test_an_idle_session_ends(sqlite_api, fake_reactor):
    api = sqlite_api
    s = await setup(api)
    subscriber = await signed_in(api, s)
    idle = api.settings.cabinet.idle_minutes * 60
    fake_reactor.advance(idle - 90)
    assert (await subscriber.get("/cabinet/")).status == 200  # seen: idle time starts again
    fake_reactor.advance(idle - 90)
    assert (await subscriber.get("/cabinet/")).status == 200
    fake_reactor.advance(idle + 1)
    assert (await subscriber.get("/cabinet/")).location == "/cabinet/login"


@pytest_twisted.ensureDeferred
async def test_an_api_token_is_no_cabinet_session_and_a_cabinet_cookie_opens_no_api(api):
    s = await setup(api)
    subscriber = await signed_in(api, s)
    cabinet_token = subscriber.cookies["bgcab_session"]
    intruder = Subscriber(api)
    intruder.cookies["bgcab_session"] = s.admin
    assert (await intruder.get("/cabinet/")).location == "/cabinet/login"
    for path in ("/api/v1/me", f"/api/v1/contracts/{s.ours['id']}",
                 f"/api/v1/contracts/{s.ours['id']}/balance"):
        status, body, _ = await api.call("GET", path, token=cabinet_token)
        assert status == 401, (path, body)
        page = await subscriber.get(path)  # the cookie comes along: the API ignores it
        assert page.status == 401, path


# -- CSRF on every form ----------------------------------------------------------------------

FORMS = {
    "/cabinet/logout": {},
    "/cabinet/password": {"current": OURS, "new": "brand-new-1", "repeat": "brand-new-1"},
    "/cabinet/params": {"key": "email", "value": "forged@example.com"},
    "/cabinet/suspend": {"days": "7"},
    "/cabinet/promise": {"amount": "100", "days": "3"},
    "/cabinet/tariff": {"tariff_id": "0"},
}


@pytest_twisted.ensureDeferred
async def test_every_form_without_a_valid_csrf_token_is_refused(api):
    s = await setup(api)
    FORMS["/cabinet/tariff"]["tariff_id"] = str(s.plans["Ours-plan"]["id"])
    subscriber = await signed_in(api, s)
    someone_else = await signed_in(api, s)  # a valid token, of another session
    foreign = (await someone_else.get("/cabinet/")).csrf
    for path, form in FORMS.items():
        for token in (None, "", "0" * 64, foreign):
            sent = dict(form) if token is None else {**form, "csrf_token": token}
            page = await subscriber.request("POST", path, form=sent)
            assert page.status == 403, (path, token, page)
    card = (await api.call("GET", f"/api/v1/contracts/{s.ours['id']}", token=s.admin))[1]
    assert card["status"] == "active" and card["temporary_limit"] is None
    assert "email" not in card["params"]
    tariffs = (await api.call("GET", f"/api/v1/contracts/{s.ours['id']}/tariffs",
                              token=s.admin))[1]["items"]
    assert len(tariffs) == 1
    assert (await subscriber.get("/cabinet/")).status == 200  # still signed in
    assert (await Subscriber(api).login(s.ours["number"], OURS)).status == 303


# -- only their own ------------------------------------------------------------------------

PAGES = ("/cabinet/", "/cabinet/money", "/cabinet/tariff", "/cabinet/params",
         "/cabinet/password", "/cabinet/sessions", "/cabinet/calls", "/cabinet/services")


@pytest_twisted.ensureDeferred
async def test_no_id_in_any_url_reaches_another_contract(api):
    s = await setup(api)
    subscriber = await signed_in(api, s)
    theirs = s.theirs["id"]
    for path in PAGES + ("/cabinet/sessions.csv", "/cabinet/calls.csv"):
        for query in (f"?contract_id={theirs}", f"?id={theirs}", f"?contract={theirs}",
                      f"?number={s.theirs['number']}"):
            page = await subscriber.get(path + query)
            assert page.status == 200, (path, query, page)
            for leak in (s.theirs["number"], "THEIR-PAYMENT", "theirs@example.com",
                         "THEIR-SECRET-NOTE", "777,00"):
                assert leak not in page.text, (path, query, leak)
        for tail in (f"/{theirs}", f"/{s.theirs['number']}"):
            assert (await subscriber.get(path.rstrip("/") + tail)).status == 404, path


@pytest_twisted.ensureDeferred
async def test_no_id_in_any_form_reaches_another_contract(api):
    s = await setup(api)
    subscriber = await signed_in(api, s)
    theirs = str(s.theirs["id"])
    extra = {"contract_id": theirs, "id": theirs, "number": s.theirs["number"]}
    assert (await subscriber.post("/cabinet/params", {
        **extra, "key": "email", "value": "mine@example.com"})).status == 303
    # a parameter not writable in the cabinet is not there at all
    for key in ("note", "secret_note", "no_such"):
        page = await subscriber.post("/cabinet/params", {**extra, "key": key, "value": "x"})
        assert page.status == 404, key
    # a plan offered to another group, or none, is not there either
    for plan in (s.plans["Their-plan"]["id"], s.plans["Start"]["id"], 999999, "x"):
        page = await subscriber.post("/cabinet/tariff", {**extra, "tariff_id": str(plan)})
        assert page.status in (404, 422), plan
    assert (await subscriber.post("/cabinet/suspend", {**extra, "days": "7"},
                                  csrf_from="/cabinet/")).status == 303
    ours = (await api.call("GET", f"/api/v1/contracts/{s.ours['id']}", token=s.admin))[1]
    theirs_card = (await api.call("GET", f"/api/v1/contracts/{theirs}", token=s.admin))[1]
    assert ours["params"]["email"] == "mine@example.com" and ours["status"] == "suspended"
    assert theirs_card["params"]["email"] == "theirs@example.com"
    assert theirs_card["status"] == "active"
    assert "note" not in ours["params"]
    periods = (await api.call("GET", f"/api/v1/contracts/{s.ours['id']}/tariffs",
                              token=s.admin))[1]["items"]
    assert len(periods) == 1


@pytest_twisted.ensureDeferred
async def test_the_kernel_shows_a_subscriber_no_other_contract(api):
    s = await setup(api)
    caller = subscriber_caller(s.ours["id"], s.ours["number"])
    assert (await api.services.contracts.get(caller, s.ours["id"]))["id"] == s.ours["id"]
    for call in (api.services.contracts.get(caller, s.theirs["id"]),
                 api.services.money.balance(caller, s.theirs["id"], None),
                 api.services.params.values(caller, s.theirs["id"]),
                 api.services.tariffs.periods(caller, s.theirs["id"])):
        with pytest.raises(NotFound):
            await call


# -- parameters ------------------------------------------------------------------------------

@pytest_twisted.ensureDeferred
async def test_parameters_are_shown_escaped_and_changed_as_the_subscriber(api):
    s = await setup(api)
    script = '<script>alert("x")</script><b onmouseover="y">'
    await api.call("PUT", f"/api/v1/contracts/{s.ours['id']}/params/note", token=s.admin,
                   json={"value": script})
    subscriber = await signed_in(api, s)
    page = await subscriber.post("/cabinet/params", {"key": "nickname", "value": script})
    assert page.status == 303 and page.location == "/cabinet/params?done=saved"
    page = await subscriber.get("/cabinet/params")
    assert "<script>alert" not in page.text and "<b onmouseover" not in page.text
    assert page.text.count("&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") == 2
    assert "Сохранено" not in page.text
    assert "OUR-HIDDEN-NOTE" not in page.text and "Secret_Note" not in page.text
    history = await rows(api, contract_param_history,
                         contract_param_history.c.contract_id == s.ours["id"],
                         contract_param_history.c.actor_type == "subscriber")
    assert [(h["actor_id"], h["actor_name"]) for h in history] == [
        (s.ours["id"], s.ours["number"])]
    audits = await rows(api, audit, audit.c.action == "contract.param_set",
                        audit.c.actor_type == "subscriber")
    assert len(audits) == 1 and audits[0]["contract_id"] == s.ours["id"]


@pytest_twisted.ensureDeferred
async def test_a_wrong_value_is_refused_as_the_api_refuses_it(sqlite_api):
    api = sqlite_api
    s = await setup(api)
    subscriber = await signed_in(api, s)
    page = await subscriber.post("/cabinet/params", {"key": "email", "value": "not-an-email"})
    assert page.status == 422 and "must be an e-mail address" in page.text
    assert await subscriber.post("/cabinet/params", {"key": "email", "value": "a@b.ru"})
    page = await subscriber.post("/cabinet/params", {"key": "email", "value": ""})
    assert page.status == 303  # empty: removed
    card = (await api.call("GET", f"/api/v1/contracts/{s.ours['id']}", token=s.admin))[1]
    assert "email" not in card["params"]


# -- self-service ------------------------------------------------------------------------------

@pytest_twisted.ensureDeferred
async def test_suspension_within_bounds_resumes_by_itself(api, fake_reactor):
    s = await setup(api)
    subscriber = await signed_in(api, s, "en")
    settings = api.settings.cabinet
    for days in (settings.suspension_min_days - 1, settings.suspension_max_days + 1, "x"):
        page = await subscriber.post("/cabinet/suspend", {"days": str(days)},
                                     csrf_from="/cabinet/")
        assert page.status == 422, days
    page = await subscriber.post("/cabinet/suspend", {"days": "10"}, csrf_from="/cabinet/")
    assert page.status == 303
    overview = await subscriber.get("/cabinet/")
    assert "suspended" in overview.text and "resumes on 2026-01-25" in overview.text
    again = await subscriber.post("/cabinet/suspend", {"days": "10"}, csrf_from="/cabinet/")
    assert again.status == 409
    history = (await api.call("GET", f"/api/v1/contracts/{s.ours['id']}/statuses",
                              token=s.admin))[1]["items"]
    assert [(h["status"], h["date_from"], h["applied"], h["actor_type"])
            for h in history[-2:]] == [("suspended", "2026-01-15", True, "subscriber"),
                                       ("active", "2026-01-25", False, "subscriber")]
    clock = api.services.clock
    fake_reactor.advance(10 * 86400)
    applied = await api.services.database.run("apply", statuses.apply_due, clock.today(),
                                              clock.now())
    assert applied == 1
    card = (await api.call("GET", f"/api/v1/contracts/{s.ours['id']}",
                           token=await api.admin()))[1]
    assert card["status"] == "active"


@pytest_twisted.ensureDeferred
async def test_a_promised_payment_within_bounds_once_per_period(api, fake_reactor):
    s = await setup(api)
    subscriber = await signed_in(api, s, "en")
    c = api.settings.cabinet
    for amount, days in (("0", "3"), (str(c.promised_payment_max_amount + 1), "3"),
                         ("12.345", "3"), ("abc", "3"), ("100", "0"),
                         ("100", str(c.promised_payment_max_days + 1))):
        page = await subscriber.post("/cabinet/promise", {"amount": amount, "days": days},
                                     csrf_from="/cabinet/")
        assert page.status == 422, (amount, days)
    page = await subscriber.post("/cabinet/promise", {"amount": "300.50", "days": "3"},
                                 csrf_from="/cabinet/")
    assert page.status == 303, page
    card = (await api.call("GET", f"/api/v1/contracts/{s.ours['id']}", token=s.admin))[1]
    assert card["temporary_limit"] == {"limit": "-300.50", "until": "2026-01-17"}
    overview = await subscriber.get("/cabinet/")
    assert "Next promised payment from 2026-02-14" in overview.text
    again = await subscriber.post("/cabinet/promise", {"amount": "10", "days": "1"},
                                  csrf_from="/cabinet/money")
    assert again.status == 409
    fake_reactor.advance(30 * 86400)
    subscriber = await signed_in(api, s, "en")
    page = await subscriber.post("/cabinet/promise", {"amount": "10", "days": "1"},
                                 csrf_from="/cabinet/")
    assert page.status == 303


# -- tariff -------------------------------------------------------------------------------------

@pytest_twisted.ensureDeferred
async def test_a_tariff_of_the_contracts_groups_from_the_first_of_next_month(api):
    s = await setup(api)
    subscriber = await signed_in(api, s, "en")
    page = await subscriber.get("/cabinet/tariff")
    assert "Ours-plan" in page.text and "Their-plan" not in page.text
    page = await subscriber.post("/cabinet/tariff",
                                 {"tariff_id": str(s.plans["Ours-plan"]["id"])})
    assert page.status == 303
    periods = (await api.call("GET", f"/api/v1/contracts/{s.ours['id']}/tariffs",
                              token=s.admin))[1]["items"]
    assert [(p["tariff_id"], p["date_from"], p["date_to"]) for p in periods] == [
        (s.plans["Start"]["id"], "2026-01-15", "2026-01-31"),
        (s.plans["Ours-plan"]["id"], "2026-02-01", None)]
    page = await subscriber.get("/cabinet/tariff")
    assert "From 2026-02-01: “Ours-plan”" in page.text
    page = await subscriber.post("/cabinet/tariff", {"action": "cancel"})
    assert page.status == 303
    periods = (await api.call("GET", f"/api/v1/contracts/{s.ours['id']}/tariffs",
                              token=s.admin))[1]["items"]
    assert [(p["tariff_id"], p["date_to"]) for p in periods] == [(s.plans["Start"]["id"], None)]


# -- money, reports, language ---------------------------------------------------------------------

@pytest_twisted.ensureDeferred
async def test_money_per_language_and_the_remembered_switch(api):
    s = await setup(api)
    subscriber = await signed_in(api, s, "en-US,en;q=0.9,ru;q=0.5")
    page = await subscriber.get("/cabinet/money")
    assert f"RUB{NBSP}1,234.50" in page.text and "our charge" in page.text
    assert "January 2026" in page.text and '<html lang="en">' in page.text
    page = await subscriber.get("/cabinet/money?lang=ru")
    assert f"1{NBSP}234,50{NBSP}₽" in page.text and "январь 2026" in page.text
    page = await subscriber.get("/cabinet/")  # remembered, over Accept-Language
    assert '<html lang="ru">' in page.text and f"1{NBSP}200,00{NBSP}₽" in page.text


@pytest_twisted.ensureDeferred
async def test_reports_without_usage_say_so_and_check_their_dates(sqlite_api):
    api = sqlite_api
    s = await setup(api)
    subscriber = await signed_in(api, s, "en")
    for name in ("sessions", "calls"):
        page = await subscriber.get(f"/cabinet/{name}")
        assert page.status == 200 and "Nothing in these dates" in page.text
        csv = await subscriber.get(f"/cabinet/{name}.csv?from=2026-01-01&to=2026-01-15")
        assert csv.status == 200 and csv.header("content-type").startswith("text/csv")
        assert csv.text.count("\r\n") == 1 and csv.text.startswith("start,")
        assert "attachment" in csv.header("content-disposition")
        for query in ("?from=2026-13-01", "?from=2026-01-10&to=2026-01-01",
                      "?from=2024-01-01&to=2026-01-01"):
            assert (await subscriber.get(f"/cabinet/{name}{query}")).status == 422


@pytest_twisted.ensureDeferred
async def test_the_overview_draws_the_months_spending_as_svg(sqlite_api):
    api = sqlite_api
    s = await setup(api)
    subscriber = await signed_in(api, s, "en")
    page = await subscriber.get("/cabinet/")
    assert page.text.count("<svg") == 1  # spending; no traffic yet
    assert "Traffic by day, MB" in page.text and "No data for this month yet" in page.text
    assert "15: RUB" in page.text and "<title>15: RUB\u00a034.50</title>" in page.text


# -- one-time services --------------------------------------------------------------------------

@pytest_twisted.ensureDeferred
async def test_only_the_services_the_tariff_offers_in_the_cabinet_can_be_ordered(api):
    s = await setup(api)
    status, module, _ = await api.call("POST", "/api/v1/modules", token=s.admin,
                                       json={"type": "rscm", "title": "Services"})
    assert status == 201, module
    services = {}
    for title in ("Visit", "Router", "Gold"):
        services[title] = (await api.call("POST", f"/api/v1/modules/{module['id']}/services",
                                          token=s.admin, json={"title": title}))[1]
    status, body, _ = await api.call("PATCH", f"/api/v1/tariffs/{s.plans['Start']['id']}",
                                     token=s.admin, json={"modules": {str(module["id"]): {
        "prices": [{"service_id": services["Visit"]["id"], "price": "250.00", "cabinet": True},
                   {"service_id": services["Gold"]["id"], "price": "5000.00", "cabinet": True},
                   {"service_id": services["Router"]["id"], "price": "99.00"}]}}})
    assert status == 200, body
    subscriber = await signed_in(api, s, "en")
    page = await subscriber.get("/cabinet/services")
    assert "Visit" in page.text and "RUB\u00a0250.00" in page.text and "Router" not in page.text
    visit = f"{module['id']}:{services['Visit']['id']}"
    for offer, quantity, status in (
            (f"{module['id']}:{services['Router']['id']}", "1", 404),  # not in the cabinet
            (f"{module['id']}:999", "1", 404), ("999:1", "1", 404), ("x", "1", 404),
            (visit, "0", 422), (visit, "101", 422), (visit, "two", 422),
            (f"{module['id']}:{services['Gold']['id']}", "1", 409)):  # more than the balance
        page = await subscriber.post("/cabinet/services", {"offer": offer,
                                                           "quantity": quantity})
        assert page.status == status, (offer, quantity, page)
    page = await subscriber.post("/cabinet/services", {
        "offer": visit, "quantity": "2", "contract_id": str(s.theirs["id"])})
    assert page.status == 303 and page.location == "/cabinet/services?done=ordered"
    ours = (await api.call("GET", f"/api/v1/contracts/{s.ours['id']}", token=s.admin))[1]
    theirs = (await api.call("GET", f"/api/v1/contracts/{s.theirs['id']}", token=s.admin))[1]
    assert Decimal(ours["balance"]) == Decimal("1200.00") - Decimal("500.00")
    assert Decimal(theirs["balance"]) == Decimal("777.00")
    orders = (await api.call("GET", f"/api/v1/contracts/{s.ours['id']}/orders",
                             token=s.admin))[1]["items"]
    assert [(o["quantity"], o["amount"], o["actor_type"]) for o in orders] == [
        (2, "500.00", "subscriber")]
