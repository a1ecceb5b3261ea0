"""The increment rule, the longest prefix and per-call rounding of design §3, against
figures worked out by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bgserver.modules.voice.config import VoiceTariff
from bgserver.modules.voice.rating import billed_seconds, rate

D = Decimal


@pytest.mark.parametrize("increment, answered, billed", [
    ("60/60", 1, 60), ("60/60", 60, 60), ("60/60", 61, 120), ("60/60", 125, 180),
    ("1/1", 1, 1), ("1/1", 61, 61), ("1/1", 3599, 3599),
    ("30/6", 1, 30), ("30/6", 30, 30), ("30/6", 31, 36), ("30/6", 36, 36), ("30/6", 37, 42),
    ("60/60", 0, 0), ("30/6", 0, 0),
])
def test_increment_rule(increment, answered, billed):
    assert billed_seconds(answered, increment) == billed


def tariff(increment="60/60", connect_fee="0"):
    return VoiceTariff.model_validate({
        "service_id": 1, "connect_fee": connect_fee, "increment": increment, "prefixes": [
            {"prefix": "7", "price_min": "2.00"}, {"prefix": "7495", "price_min": "1.20"},
            {"prefix": "74957", "price_min": "0.90"}, {"prefix": "8800", "price_min": "0.30"}]})


@pytest.mark.parametrize("increment, fee, dst, billsec, billed, prefix, cost", [
    # 61 s at 60/60 is 120 s; 120 * 1.20 / 60 = 2.40
    ("60/60", "0", "74951234567", 61, 120, "7495", D("2.40")),
    # the longest prefix: 74957 at 0.90 beats 7495 and 7; 60 s = 0.90
    ("60/60", "0", "74957001122", 30, 60, "74957", D("0.90")),
    # 125 s at 60/60 is 180 s at 2.00 a minute = 6.00
    ("60/60", "0", "78121234567", 125, 180, "7", D("6.00")),
    # 1/1: 61 s * 1.20 / 60 = 1.22
    ("1/1", "0", "74951234567", 61, 61, "7495", D("1.22")),
    # 1/1: 1 s * 0.30 / 60 = 0.005 -> 0.01 (HALF_UP, not to even)
    ("1/1", "0", "88001234567", 1, 1, "8800", D("0.01")),
    # 1/1: 7 s * 0.90 / 60 = 0.105 -> 0.11
    ("1/1", "0", "74957000000", 7, 7, "74957", D("0.11")),
    # 30/6: 37 s is 42 s; 42 * 1.20 / 60 = 0.84, plus the connect fee 0.15 = 0.99
    ("30/6", "0.15", "74951234567", 37, 42, "7495", D("0.99")),
    # 30/6: 5 s is 30 s; 30 * 2.00 / 60 = 1.00 + 0.15 = 1.15
    ("30/6", "0.15", "79031234567", 5, 30, "7", D("1.15")),
])
def test_answered_calls(increment, fee, dst, billsec, billed, prefix, cost):
    rated = rate(tariff(increment, fee), dst, "ANSWERED", billsec)
    assert (rated.billed_seconds, rated.prefix, rated.cost) == (billed, prefix, cost)


@pytest.mark.parametrize("disposition", ["NO ANSWER", "BUSY", "FAILED", "CONGESTION"])
def test_only_answered_calls_cost(disposition):
    rated = rate(tariff("30/6", "0.15"), "74951234567", disposition, 0)
    assert (rated.billed_seconds, rated.cost) == (0, D("0.00"))


def test_an_answered_call_without_a_price_is_not_rated():
    assert rate(tariff(), "4981234567", "ANSWERED", 10) is None
