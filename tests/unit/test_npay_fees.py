"""The rules of periodic fees (design §3), checked against the design's own formulas and
against values worked out by hand."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bgserver.modules.npay import fees
from bgserver.modules.npay.config import Fee, NpayTariff
from bgserver.modules.npay.fees import Move, Standing

amounts = st.decimals(min_value=Decimal("0.00"), max_value=Decimal("1000000.00"), places=2)
month_days = st.sampled_from([28, 29, 30, 31])


def r(x: Decimal) -> Decimal:
    """The design's round(): to kopecks, half up (written here, not taken from the code)."""
    return x.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@given(amounts, month_days)
def test_a_month_of_daily_shares_sums_to_the_amount(amount, days):
    shares = [fees.share(amount, k, days) for k in range(1, days + 1)]
    assert sum(shares) == amount
    assert all(s >= 0 and s == s.quantize(Decimal("0.01")) for s in shares)


@given(amounts, amounts, month_days, st.data())
def test_a_daily_tariff_change_on_day_j_gives_the_designs_month(a1, a2, days, data):
    j = data.draw(st.integers(min_value=1, max_value=days))
    month = sum(fees.share(a1, k, days) for k in range(1, j)) + \
        sum(fees.share(a2, k, days) for k in range(j, days + 1))
    assert month == r(a1 * (j - 1) / days) + (a2 - r(a2 * (j - 1) / days))


@given(amounts, amounts, month_days, st.data())
def test_an_advance_change_on_day_j_refunds_and_charges_by_the_design(a1, a2, days, data):
    j = data.draw(st.integers(min_value=2, max_value=days))
    day = date(2028, 1, j)
    first = fees.advance(None, a1, Standing.DUE, date(2028, 1, 1), days)
    change = fees.advance(a1, a2, Standing.DUE, day, days)
    expected = []
    if a1 != a2:
        if a1 - r(a1 * (j - 1) / days):
            expected.append(Move("refund", -(a1 - r(a1 * (j - 1) / days))))
        if a2 - r(a2 * (j - 1) / days):
            expected.append(Move("fee", a2 - r(a2 * (j - 1) / days)))
    assert first == ([Move("fee", a1)] if a1 else [])
    assert change == expected
    # the month then costs what the daily rule gives for the same change
    assert sum(m.amount for m in first + change) == \
        r(a1 * (j - 1) / days) + (a2 - r(a2 * (j - 1) / days))


def test_daily_shares_by_hand():
    # 300.00 over 31 days: 9.68 (9.677..), 9.67 (19.354.. -> 19.35), 9.68 (29.03)
    assert [fees.share(Decimal("300.00"), k, 31) for k in (1, 2, 3)] == \
        [Decimal("9.68"), Decimal("9.67"), Decimal("9.68")]
    # 100.00 over 28 days: 3.57 (3.571..), 3.57 (7.142.. -> 7.14), 3.57 (10.714 -> 10.71)
    assert fees.share(Decimal("100.00"), 2, 28) == Decimal("3.57")
    # day 14 of 28: 50.00 - 46.43 (46.428..) = 3.57; day 28: 100.00 - 96.43 = 3.57
    assert fees.share(Decimal("100.00"), 28, 28) == Decimal("3.57")


def test_advance_by_hand():
    # 300.00 a month of 30 days, given back from day 11: 300.00 - 100.00
    assert fees.advance(Decimal("300.00"), None, Standing.NONE, date(2026, 4, 11), 30) == \
        [Move("refund", Decimal("-200.00"))]
    # then 450.00 charged from day 11 of 30: 450.00 - 150.00
    assert fees.advance(None, Decimal("450.00"), Standing.DUE, date(2026, 4, 11), 30) == \
        [Move("fee", Decimal("300.00"))]
    # kept while blocked for the balance; no second charge of the same fee
    assert fees.advance(Decimal("300.00"), None, Standing.KEEP, date(2026, 4, 11), 30) == []
    assert fees.advance(Decimal("300.00"), Decimal("300.00"), Standing.DUE,
                        date(2026, 4, 11), 30) == []


@pytest.mark.parametrize("status, reason, when_blocked, expected", [
    ("active", None, False, Standing.DUE),
    ("blocked", "balance", True, Standing.DUE),
    ("blocked", "balance", False, Standing.KEEP),
    ("blocked", "operator", True, Standing.NONE),
    ("suspended", None, True, Standing.NONE),
    ("closed", None, True, Standing.NONE),
    (None, None, True, Standing.NONE),
])
def test_when_a_fee_is_due(status, reason, when_blocked, expected):
    fee = Fee(service_id=1, amount="10.00", charge_when_blocked=when_blocked)
    assert fees.standing(fee, True, status, reason) is expected
    assert fees.standing(fee, False, "active", None) is Standing.NONE


def test_a_plan_has_one_fee_per_service():
    with pytest.raises(ValueError, match="service 1 has two fees"):
        NpayTariff.model_validate({"fees": [{"service_id": 1, "amount": "1.00"},
                                            {"service_id": 1, "amount": "2.00"}]})
