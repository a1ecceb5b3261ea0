"""Pricing a call (design §3): the increment rule, the longest prefix, the connect fee,
each call rounded to kopecks ROUND_HALF_UP."""

from __future__ import annotations

from fractions import Fraction
from decimal import Decimal
from typing import NamedTuple

from bgserver.loader.formats import round_exact
from bgserver.modules.voice.config import Prefix, VoiceTariff

ANSWERED = "ANSWERED"


def billed_seconds(answered: int, increment: str) -> int:
    """``first`` seconds for a call of up to ``first``, then whole steps of ``next``."""
    first, step = (int(part) for part in increment.split("/"))
    if answered <= 0:
        return 0
    if answered <= first:
        return first
    return first + -(-(answered - first) // step) * step


def longest_prefix(prefixes: list[Prefix], number: str) -> Prefix | None:
    best = None
    for prefix in prefixes:
        if number.startswith(prefix.prefix) and (best is None
                                                 or len(prefix.prefix) > len(best.prefix)):
            best = prefix
    return best


class Rated(NamedTuple):
    billed_seconds: int
    prefix: str | None
    price_min: Decimal | None
    cost: Decimal


def rate(tariff: VoiceTariff, dst: str, disposition: str, billsec: int) -> Rated | None:
    """The call's price, or None when the tariff has no price for the callee. Only an
    answered call costs."""
    prefix = longest_prefix(tariff.prefixes, dst)
    if disposition != ANSWERED or billsec <= 0:
        return Rated(0, prefix.prefix if prefix else None,
                     prefix.price_min if prefix else None, Decimal("0.00"))
    if prefix is None:
        return None
    billed = billed_seconds(billsec, tariff.increment)
    cost = Fraction(tariff.connect_fee) + Fraction(billed) * Fraction(prefix.price_min) / 60
    return Rated(billed, prefix.prefix, prefix.price_min, round_exact(cost))
