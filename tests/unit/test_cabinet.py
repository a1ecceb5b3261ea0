"""The cabinet's pieces that need no server: formats per language, the language choice,
charts, CSV, the cookie's flags."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from twisted.web.server import Request
from twisted.web.test.requesthelper import DummyChannel

from bgserver.cabinet import charts, i18n, reports
from bgserver.cabinet.web import CabinetWeb, csrf_token
from bgserver.modules.voice.cabinet import CALLS

MOSCOW = ZoneInfo("Europe/Moscow")
NBSP = "\u00a0"


@pytest.mark.parametrize("amount, ru, en", [
    ("1234.5", f"1{NBSP}234,50{NBSP}₽", f"RUB{NBSP}1,234.50"),
    ("0", f"0,00{NBSP}₽", f"RUB{NBSP}0.00"),
    ("-1234567.891", f"-1{NBSP}234{NBSP}567,89{NBSP}₽", f"RUB{NBSP}-1,234,567.89"),
    ("-0.001", f"0,00{NBSP}₽", f"RUB{NBSP}0.00"),
    ("999.995", f"1{NBSP}000,00{NBSP}₽", f"RUB{NBSP}1,000.00"),
])
def test_money_per_language(amount, ru, en):
    assert i18n.Locale("ru", MOSCOW, "RUB").money(Decimal(amount)) == ru
    assert i18n.Locale("en", MOSCOW, "RUB").money(Decimal(amount)) == en


def test_times_in_the_billing_time_zone():
    late = datetime(2026, 1, 15, 22, 30, tzinfo=timezone.utc)  # 01:30 on the 16th in Moscow
    assert i18n.Locale("ru", MOSCOW, "RUB").datetime(late) == "16.01.2026 01:30:00"
    assert i18n.Locale("en", MOSCOW, "RUB").date(late) == "2026-01-16"
    assert i18n.Locale("en", MOSCOW, "RUB").duration(3725) == "1:02:05"


@pytest.mark.parametrize("query, cookie, header, lang", [
    (None, None, None, "ru"),
    (None, None, "en-US,en;q=0.9", "en"),
    (None, None, "de-DE, en;q=0.5, ru;q=0.8", "ru"),
    (None, "en", "ru", "en"),
    ("ru", "en", "en", "ru"),
    ("xx", None, "en", "en"),
    (None, None, "en;q=bad, ru", "ru"),
])
def test_the_language_choice(query, cookie, header, lang):
    assert i18n.choose(query, cookie, header) == lang


def test_every_text_is_in_both_languages():
    assert all(len(pair) == 2 and all(pair) for pair in i18n.TEXT.values())


def test_a_month_chart_has_a_bar_a_day_the_tallest_at_the_top():
    chart = charts.month_bars(date(2026, 2, 1), {date(2026, 2, 3): Decimal("10"),
                                                  date(2026, 2, 4): Decimal("5"),
                                                  date(2026, 2, 5): Decimal("-3")})
    assert len(chart.bars) == 28 and not chart.empty and chart.top == Decimal("10")
    tallest, half, negative = chart.bars[2], chart.bars[3], chart.bars[4]
    assert tallest.y == charts.TOP and half.height == tallest.height / 2
    assert negative.height == 0
    assert charts.month_bars(date(2026, 2, 1), {}).empty


def test_csv_keeps_formulas_out_and_times_in_the_billing_zone():
    row = {"start": datetime(2026, 1, 15, 21, 0, tzinfo=timezone.utc), "src": "=cmd|' /C calc'!A0",
           "dst": "+74951234567", "billsec": 61, "billed_seconds": 120, "cost": Decimal("1.00")}
    text = reports.to_csv(CALLS, [row], MOSCOW).decode()
    assert text.splitlines() == [
        "start,src,dst,billsec,billed_seconds,cost",
        "2026-01-16T00:00:00+03:00,'=cmd|' /C calc'!A0,'+74951234567,61,120,1.00"]


@pytest.mark.parametrize("secure", [False, True])
def test_the_cookie_is_httponly_lax_and_secure_over_https(secure):
    request = Request(DummyChannel())
    request.isSecure = lambda: secure
    CabinetWeb._cookie(None, request, b"bgcab_session", "bgc_token", max_age=60)
    cookie = request.cookies[0].decode()
    assert cookie.startswith("bgcab_session=bgc_token;")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/cabinet/" in cookie
    assert ("Secure" in cookie) == secure


def test_the_csrf_token_belongs_to_its_session_and_reveals_nothing():
    assert csrf_token("bgc_a") == csrf_token("bgc_a") != csrf_token("bgc_b")
    assert "bgc_a" not in csrf_token("bgc_a") and len(csrf_token("bgc_a")) == 64
