"""What a tariff plan says about Internet access: prices by the byte and by the second."""

from __future__ import annotations

from pydantic import Field

from bgserver.modules import ModuleConfig, TariffConfig
from bgshared.api.models import Rate


class InetService(ModuleConfig):
    service_id: int = Field(ge=1)
    #: Per 1,048,576 bytes to the subscriber (after ``included_mb``) and from them.
    price_mb_down: Rate = "0"  # type: ignore[assignment] - validated
    price_mb_up: Rate = "0"  # type: ignore[assignment] - validated
    price_hour: Rate = "0"  # type: ignore[assignment] - validated
    #: Megabytes of download each month before ``price_mb_down`` applies.
    included_mb: int = Field(0, ge=0)


class InetTariff(TariffConfig):
    services: list[InetService] = Field(default_factory=list)

    def service_ids(self) -> set[int]:
        return {service.service_id for service in self.services}
