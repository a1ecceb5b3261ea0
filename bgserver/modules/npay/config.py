"""What a tariff plan says about periodic fees, and an npay instance's own settings."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

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

    @field_validator("fees")
    @classmethod
    def _one_fee_per_service(cls, fees: list[Fee]) -> list[Fee]:
        """A service's fee is charged once a day (or month): two fees would share its key."""
        seen: set[int] = set()
        for fee in fees:
            if fee.service_id in seen:
                raise ValueError(f"service {fee.service_id} has two fees")
            seen.add(fee.service_id)
        return fees

    def service_ids(self) -> set[int]:
        return {fee.service_id for fee in self.fees}


class NpayInstance(ModuleConfig):
    #: The charge type of the fees, and the one of the refunds of advance fees.
    charge_type_id: int = 4
    refund_type_id: int = 3
