"""Pricing a call (design §3): the increment rule, the longest prefix, the connect fee,
each call rounded to kopecks ROUND_HALF_UP."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import NamedTuple

from bgserver.loader.formats import round_exact
from bgserver.modules.voice.config import VoiceTariff

ANSWERED = "ANSWERED"


def billed_seconds(answered: int, increment: str) -> int:
    """``first`` seconds for a call of up to ``first``, then whole steps of ``next``."""
    first, step = (int(part) for part in increment.split("/"))
    if answered <= 0:
        return 0
    if answered <= first:
        return first
    return first + -(-(answered - first) // step) * step


class Rated(NamedTuple):
    billed_seconds: int
    prefix: str | None
    price_min: Decimal | None
    cost: Decimal


def rate(tariff: VoiceTariff, dst: str, disposition: str, billsec: int) -> Rated | None:
    """The call's price, or None when the tariff has no price for the callee. Only an
    answered call costs."""
    prefix = tariff.price_for(dst)
    if disposition != ANSWERED or billsec <= 0:
        return Rated(0, prefix.prefix if prefix else None,
                     prefix.price_min if prefix else None, Decimal("0.00"))
    if prefix is None:
        return None
    billed = billed_seconds(billsec, tariff.increment)
    return Rated(billed, prefix.prefix, prefix.price_min,
                 cost(tariff.connect_fee, billed, prefix.price_min))


@lru_cache(maxsize=65536)
def cost(connect_fee: Decimal, billed: int, price_min: Decimal) -> Decimal:
    """``connect_fee + billed·price_min/60``, exact, then rounded once; calls repeat the
    same few durations and prices, so each is worked out once."""
    return round_exact(Fraction(connect_fee) + Fraction(billed) * Fraction(price_min) / 60)
