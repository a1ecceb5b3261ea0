"""JSON on the wire: money as decimal strings, times and dates in ISO 8601.

Numbers with a fraction are read as ``Decimal``, never float, so an amount stays exact
even when a client sends it as a JSON number.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"cannot put {type(value).__name__} into JSON")


#: The largest whole number both databases hold (BIGINT): ids, cursors and counts past
#: it are refused where they are read, not found too big by the database later.
MAX_INT = 2**63 - 1
#: The days the billing deals in: any contract's, and a month either side of them is
#: still a date (``date.max + 1 day`` overflows).
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)
#: Objects and arrays nest at most this deep in a request.
MAX_DEPTH = 32


def dumps(value: Any) -> str:
    return json.dumps(value, default=_encode, ensure_ascii=False, separators=(",", ":"))


class TooLarge(ValueError):
    """A whole number past :data:`MAX_INT`."""


def whole_number(text: str) -> int:
    """A whole number read from a client, within what the databases hold."""
    value = int(text)
    if not -MAX_INT <= value <= MAX_INT:
        raise TooLarge(f"{text[:30]}... is too large" if len(text) > 30 else
                       f"{text} is too large")
    return value


def day(value: date) -> date:
    """A date from a client, within the days the billing deals in."""
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(f"must be between {FIRST_DAY} and {LAST_DAY}")
    return value


def _depth(value: Any) -> int:
    deepest, level = 0, [(value, 1)]
    while level:
        item, depth = level.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            level.extend((child, depth + 1)
                         for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def loads(text: str | bytes) -> Any:
    """JSON from a client (or the server): fractions as ``Decimal``; a whole number past
    :data:`MAX_INT` (:class:`TooLarge`) or nesting past :data:`MAX_DEPTH` is a
    ``ValueError`` like any other malformed JSON."""
    try:
        value = json.loads(text, parse_float=Decimal, parse_int=whole_number)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    if _depth(value) > MAX_DEPTH:
        raise ValueError("nested too deeply")
    return value


class Sealed(dict):
    """A JSON object nobody changes any more (a remembered contract card): its bytes are
    made once, however often it is sent."""

    __slots__ = ("_encoded",)

    def encoded(self) -> bytes:
        try:
            return self._encoded
        except AttributeError:
            self._encoded: bytes = dumps(self).encode()
            return self._encoded

    def _sealed(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("a sealed JSON object cannot change")

    __setitem__ = __delitem__ = update = pop = popitem = clear = setdefault = _sealed  # type: ignore[assignment]
    __ior__ = _sealed  # type: ignore[assignment]


def encode(value: Any) -> bytes:
    """UTF-8 JSON."""
    return value.encoded() if type(value) is Sealed else dumps(value).encode()
