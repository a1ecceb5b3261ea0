"""The rules of periodic fees (design §3), pure: no database, no clock.

*Daily*: day k of a month of D days at monthly amount A costs
``round(A·k/D) − round(A·(k−1)/D)`` (kopecks, ROUND_HALF_UP), so a whole month sums to A.

*Advance*: the fee held for a month changes on day j (day 1 included, where nothing is held
yet) when the tariff, the status or the contract's dates change what the day calls for: the
fee held, A1, is given back for days j..D, ``A1 − round(A1·(j−1)/D)``, and the new one, A2,
charged for them, ``A2 − round(A2·(j−1)/D)``.

*Refunds* are charges of the instance's refund type with a **negative** amount: a charge's
amount always adds to the month's ``charges``, so balance = payments − charges − usage holds
with refunds in it, and the charges of a month sum to what the subscriber really paid.

*When a fee is due*: within the contract's dates and its status that day ``active``, or
``blocked`` for its balance where the fee says ``charge_when_blocked``. A contract blocked for
its balance otherwise gets no daily share and no new advance fee, but an advance fee it holds
is not given back: the fee is what blocked it, and giving it back would free the contract only
to block it again the next day. Suspended, closed, blocked by an operator: nothing is due and
a held advance fee is given back.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import Enum
from typing import NamedTuple

from bgserver.modules.npay.config import Fee
from bgshared.money import round_money


class Standing(Enum):
    """What a day calls for, for one fee."""
    #: The fee is due.
    DUE = "due"
    #: Nothing is due; an advance fee held is given back.
    NONE = "none"
    #: Blocked for its balance: no new charge, an advance fee held stays held.
    KEEP = "keep"


def share(amount: Decimal, day: int, days: int) -> Decimal:
    """Day ``day`` of a month of ``days`` days at ``amount`` a month (cumulative rounding)."""
    return round_money(amount * day / days) - round_money(amount * (day - 1) / days)


def rest(amount: Decimal, day: int, days: int) -> Decimal:
    """The part of a month's ``amount`` for days ``day``..``days``."""
    return amount - round_money(amount * (day - 1) / days)


def standing(fee: Fee, in_contract: bool, status: str | None, reason: str | None) -> Standing:
    """Whether ``fee`` is due on a day with this status (None: no status period)."""
    if not in_contract or status is None:
        return Standing.NONE
    if status == "active":
        return Standing.DUE
    if status == "blocked" and reason == "balance":
        return Standing.DUE if fee.charge_when_blocked else Standing.KEEP
    return Standing.NONE


class Move(NamedTuple):
    """A charge to book: ``fee`` (positive) or ``refund`` (negative)."""
    kind: str
    amount: Decimal


def daily(fee: Fee | None, standing_: Standing, day: date, days: int) -> list[Move]:
    if fee is None or standing_ is not Standing.DUE:
        return []
    amount = share(fee.amount, day.day, days)
    return [Move("fee", amount)] if amount else []


def advance(held: Decimal | None, wanted: Decimal | None, standing_: Standing, day: date,
            days: int) -> list[Move]:
    """The moves that take a month from holding ``held`` (None: nothing) to the fee the
    day calls for: ``wanted`` if due, nothing if not, ``held`` again if kept."""
    if standing_ is Standing.KEEP:
        return []
    if standing_ is not Standing.DUE:
        wanted = None
    if held == wanted:
        return []
    moves = []
    if held is not None:
        back = rest(held, day.day, days)
        if back:
            moves.append(Move("refund", -back))
    if wanted is not None:
        amount = rest(wanted, day.day, days)
        if amount:
            moves.append(Move("fee", amount))
    return moves
