"""What a tariff plan says about periodic fees, and an npay instance's own settings."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from bgserver.modules import ModuleConfig, TariffConfig
from bgshared.api.models import Amount


class Fee(ModuleConfig):
    service_id: int = Field(ge=1)
    #: The amount per month.
    amount: Amount
    #: ``daily``: each active day its share, the days of a month summing exactly to the
    #: amount; ``advance``: the month on its 1st, prorated when the tariff or status changes.
    mode: Literal["daily", "advance"] = "daily"
    #: Go on charging while the contract is blocked for its balance.
    charge_when_blocked: bool = False


class NpayTariff(TariffConfig):
    fees: list[Fee] = Field(default_factory=list)

    def service_ids(self) -> set[int]:
        return {fee.service_id for fee in self.fees}


class NpayInstance(ModuleConfig):
    #: The charge type of the fees, and the one of the refunds of advance fees.
    charge_type_id: int = 4
    refund_type_id: int = 3
