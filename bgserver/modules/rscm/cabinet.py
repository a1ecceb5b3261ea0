"""rscm's page in the subscriber cabinet: the one-time services the contract's tariff lets
subscribers order themselves (``"cabinet": true`` in its prices)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.engine import Connection

from bgserver.cabinet.reports import OrderOffers
from bgserver.modules.rscm.config import RscmTariff
from bgserver.storage import modules as module_store
from bgserver.storage import tariffs as tariff_store
from bgshared.api.models import OrderCreate


def offers(conn: Connection, contract_id: int, today: date) -> list[dict[str, Any]]:
    period = tariff_store.in_force(conn, contract_id, today)
    if period is None:
        return []
    found = []
    for module_id, config in tariff_store.get_plan(conn, period.tariff_id)["modules"].items():
        instance = module_store.get_instance(conn, int(module_id))
        if instance is None or instance["type"] != "rscm" or not instance["enabled"]:
            continue
        for price in RscmTariff.model_validate(config).prices:
            service = module_store.get_service(conn, int(module_id), price.service_id)
            if price.cabinet and service is not None and service["enabled"]:
                found.append({"module_id": int(module_id), "service_id": price.service_id,
                              "title": service["title"], "unit": service["unit"],
                              "price": price.price})
    return found


async def order(database: Any, clock: Any, caller: Any, module_id: int, service_id: int,
                quantity: int) -> dict[str, Any]:
    """Ordered today, refused (409) when the balance cannot carry it."""
    from bgserver.modules.rscm.orders import OrderService  # noqa: PLC0415
    return await OrderService(database, clock).order(caller, caller.contract_id, OrderCreate(
        module_id=module_id, service_id=service_id, quantity=quantity,
        comment="ordered in the cabinet", check_balance=True))


SERVICES = OrderOffers(name="services", title={"ru": "Услуги", "en": "Services"},
                       offers=offers, order=order)
