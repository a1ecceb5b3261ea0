from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bgshared.money import (MAX_AMOUNT, MoneyError, format_money, from_minor, parse,
                            round_money, to_minor)

amounts = st.decimals(min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT, places=2,
                      allow_nan=False, allow_infinity=False)


@pytest.mark.parametrize("raw, expected", [
    ("12.3", Decimal("12.30")), ("-0.01", Decimal("-0.01")), (5, Decimal("5.00")),
    (Decimal("7.1"), Decimal("7.10")), (" 100 ", Decimal("100.00")),
])
def test_parse_accepts_exact_amounts(raw, expected):
    assert parse(raw) == expected
    assert str(parse(raw)) == str(expected)


@pytest.mark.parametrize("raw", [
    0.1, True, None, "", "abc", "1e3", "NaN", "inf", "-Infinity", "1.001", "1_000", [], "1 0",
    Decimal("1e309"), 10 ** 30, "99999999999999999999.99", MAX_AMOUNT + Decimal("0.01"),
    -MAX_AMOUNT - Decimal("0.01"), Decimal("0E-100000"),
])
def test_parse_refuses_what_is_not_exact_money(raw):
    with pytest.raises(MoneyError):
        parse(raw)


def test_parse_allows_more_places_when_asked():
    assert parse("0.1234", places=4) == Decimal("0.1234")


def test_round_half_up_to_kopecks():
    assert round_money(Decimal("1.005")) == Decimal("1.01")
    assert round_money(Decimal("-1.005")) == Decimal("-1.01")
    assert round_money(Decimal("2.344999")) == Decimal("2.34")
    assert format_money(Decimal("3")) == "3.00"


def test_to_minor_refuses_fractions_of_a_kopeck():
    with pytest.raises(MoneyError):
        to_minor(Decimal("0.005"))


@given(amounts)
def test_minor_units_round_trip(amount):
    assert from_minor(to_minor(amount)) == amount


@given(amounts)
def test_wire_form_round_trip(amount):
    assert parse(format_money(amount)) == amount


@given(st.lists(amounts, max_size=50))
def test_sums_in_minor_units_are_exact(values):
    assert from_minor(sum(to_minor(v) for v in values)) == sum(values, Decimal("0.00"))


def test_the_largest_amount_fits_both_databases():
    """DECIMAL(18, 2) on MariaDB; integer kopecks (64 bits) on SQLite."""
    assert parse(MAX_AMOUNT) == parse(-MAX_AMOUNT) * -1 == MAX_AMOUNT
    assert len(MAX_AMOUNT.as_tuple().digits) <= 18 - 4  # room for sums of many
    assert to_minor(MAX_AMOUNT) * 10_000 < 2 ** 63
