"""What a tariff plan says about telephony: prices by the callee's prefix, the increment."""

from __future__ import annotations

import re

from pydantic import Field, PrivateAttr, field_validator

from bgserver.modules import ModuleConfig, TariffConfig
from bgshared.api.models import Amount, Rate


class Prefix(ModuleConfig):
    #: Digits the callee's number starts with; the longest matching prefix wins.
    prefix: str = Field(pattern=r"^[0-9]{1,20}$")
    price_min: Rate


class VoiceTariff(TariffConfig):
    #: The service the calls' usage is booked under.
    service_id: int | None = Field(None, ge=1)
    connect_fee: Amount = "0"  # type: ignore[assignment] - validated
    #: ``first/next`` seconds: a call is billed ``first`` seconds at least, then by ``next``.
    increment: str = "60/60"
    prefixes: list[Prefix] = Field(default_factory=list)

    @field_validator("increment")
    @classmethod
    def _increment(cls, value: str) -> str:
        match = re.fullmatch(r"([1-9][0-9]{0,3})/([1-9][0-9]{0,3})", value)
        if match is None:
            raise ValueError("must be first/next seconds, such as 60/60 or 30/6")
        return value

    @field_validator("prefixes")
    @classmethod
    def _unique(cls, value: list[Prefix]) -> list[Prefix]:
        seen = [p.prefix for p in value]
        if len(seen) != len(set(seen)):
            raise ValueError("each prefix once")
        return value

    #: ``prefix -> Prefix`` and the prefixes' lengths, longest first: made on first use.
    _index: tuple[dict[str, Prefix], list[int]] | None = PrivateAttr(None)

    def price_for(self, number: str) -> Prefix | None:
        """The longest prefix ``number`` starts with: a look-up per prefix length, not a
        walk over every prefix (a tariff may list thousands)."""
        if self._index is None:
            self._index = ({p.prefix: p for p in self.prefixes},
                           sorted({len(p.prefix) for p in self.prefixes}, reverse=True))
        by_prefix, lengths = self._index
        for length in lengths:
            found = by_prefix.get(number[:length])
            if found is not None:
                return found
        return None

    def service_ids(self) -> set[int]:
        return {self.service_id} if self.service_id is not None else set()
