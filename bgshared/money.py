"""Money: exact decimal amounts in the billing currency.

Amounts are ``Decimal`` everywhere (never float): in Python, in the database (see
``bgserver.storage.types.Money``) and on the wire, where JSON carries them as strings
such as ``"123.45"``.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

#: Kopecks: the smallest unit a balance moves by.
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
#: The largest amount (either sign) anyone may enter: a payment, a limit, a price. Both
#: databases hold far more (DECIMAL(18, 2); integer kopecks on SQLite), so balances that
#: add up many of these still fit.
MAX_AMOUNT = Decimal("999999999999.99")


class MoneyError(ValueError):
    """A value that cannot be an amount of money."""


def parse(value: object, *, places: int = 2) -> Decimal:
    """Read an amount from the wire or the user, refusing anything inexact.

    Accepts ``Decimal``, ``int`` and strings like ``"12.30"``/``"-5"``; refuses floats (they
    cannot carry kopecks exactly), NaN and infinities, amounts past :data:`MAX_AMOUNT`, and
    more than ``places`` decimals rather than rounding silently.
    """
    if isinstance(value, bool) or isinstance(value, float):
        raise MoneyError(f"amount must be a decimal string, not {type(value).__name__}")
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        if not text or any(ch in text for ch in "eE_ ") or text.lower() in ("nan", "inf"):
            raise MoneyError(f"not an amount: {value!r}")
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise MoneyError(f"not an amount: {value!r}") from None
    else:
        raise MoneyError(f"amount must be a decimal string, not {type(value).__name__}")
    if not amount.is_finite():
        raise MoneyError(f"not an amount: {value!r}")
    if abs(amount) > MAX_AMOUNT:
        raise MoneyError(f"at most {MAX_AMOUNT} either way")
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -places:
        raise MoneyError(f"at most {places} decimal places: {value!r}")
    return amount.quantize(Decimal(1).scaleb(-places))


def round_money(amount: Decimal, places: int = 2) -> Decimal:
    """Round a computed amount (a rated call, a prorated fee) HALF_UP to ``places`` decimals."""
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def format_money(amount: Decimal, places: int = 2) -> str:
    """The wire form: a plain decimal string with exactly ``places`` decimals."""
    return f"{round_money(amount, places):f}"


def to_minor(amount: Decimal, places: int = 2) -> int:
    """An amount as an integer count of its smallest unit; refuses what does not fit exactly."""
    scaled = amount.scaleb(places)
    if scaled != scaled.to_integral_value():
        raise MoneyError(f"{amount} has more than {places} decimal places")
    return int(scaled)


def from_minor(units: int, places: int = 2) -> Decimal:
    """The inverse of :func:`to_minor`."""
    return Decimal(int(units)).scaleb(-places).quantize(Decimal(1).scaleb(-places))
