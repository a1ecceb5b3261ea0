"""rscm: one-time services — N units of a service ordered, priced from the tariff."""

from bgserver.modules import ModuleType
from bgserver.modules.rscm.cabinet import SERVICES
from bgserver.modules.rscm.config import RscmInstance, RscmTariff
from bgserver.modules.rscm.tables import rscm_order


def _routes(api, services) -> None:
    from bgserver.modules.rscm.api import routes  # noqa: PLC0415 - only where there is an API
    routes(api, services)


MODULE = ModuleType("rscm", "One-time services", RscmTariff, RscmInstance,
                    tables=(rscm_order,), routes=_routes, cabinet_pages=(SERVICES,))
