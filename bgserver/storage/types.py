"""Column types that keep the rules of section 4: exact money, times in UTC."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import BigInteger, DateTime, Numeric
from sqlalchemy.dialects import mysql
from sqlalchemy.types import TypeDecorator

from bgshared.money import from_minor, to_minor


class Money(TypeDecorator):
    """An exact amount: ``DECIMAL(18, places)`` on MySQL, an integer of minor units on SQLite.

    SQLite has no exact decimal type (its NUMERIC is a float), so there the amount is stored
    scaled to an integer: a round trip and ``SUM()`` are exact on both databases. A value
    with more decimals than the column holds is refused, never rounded silently.
    """

    impl = Numeric
    cache_ok = True

    def __init__(self, places: int = 2, precision: int = 18):
        super().__init__()
        self.places = places
        self.precision = precision

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(self.precision, self.places, asdecimal=True))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, (Decimal, int)) or isinstance(value, bool):
            raise TypeError(f"money must be Decimal, not {type(value).__name__}")
        units = to_minor(Decimal(value), self.places)
        return units if dialect.name == "sqlite" else from_minor(units, self.places)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "sqlite":
            return from_minor(int(value), self.places)
        return Decimal(value).quantize(Decimal(1).scaleb(-self.places))

    @property
    def python_type(self):
        return Decimal


class UtcDateTime(TypeDecorator):
    """A moment in time: stored as naive UTC (microseconds on MySQL), read back aware."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "mysql":
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: times are stored in UTC and must be aware")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=timezone.utc)

    @property
    def python_type(self):
        return datetime
