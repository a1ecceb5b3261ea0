"""What a tariff plan says about one-time services, and an rscm instance's settings."""

from __future__ import annotations

from pydantic import Field

from bgserver.modules import ModuleConfig, TariffConfig
from bgshared.api.models import Amount


class Price(ModuleConfig):
    service_id: int = Field(ge=1)
    #: The price of one unit.
    price: Amount
    #: Subscribers may order it themselves in the cabinet.
    cabinet: bool = False


class RscmTariff(TariffConfig):
    prices: list[Price] = Field(default_factory=list)

    def service_ids(self) -> set[int]:
        return {price.service_id for price in self.prices}


class RscmInstance(ModuleConfig):
    charge_type_id: int = 5
    refund_type_id: int = 3
