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


def dumps(value: Any) -> str:
    return json.dumps(value, default=_encode, ensure_ascii=False, separators=(",", ":"))


def loads(text: str | bytes) -> Any:
    return json.loads(text, parse_float=Decimal)


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
