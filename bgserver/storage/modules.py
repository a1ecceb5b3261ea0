"""Store of module instances and their services."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select, union, update
from sqlalchemy.engine import Connection

from bgserver.storage.schema import (charge, contract_tariff, module_instance, service,
                                     tariff_module, tariff_plan, usage)
from bgshared import wire


def _instance(row) -> dict[str, Any]:
    view = dict(row._mapping)
    view["config"] = wire.loads(view["config"])
    return view


def list_instances(conn: Connection) -> list[dict[str, Any]]:
    return [_instance(r) for r in conn.execute(
        select(module_instance).order_by(module_instance.c.id))]


def get_instance(conn: Connection, module_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(module_instance).where(module_instance.c.id == module_id)).first()
    return _instance(row) if row else None


def insert_instance(conn: Connection, values: dict[str, Any]) -> int:
    return conn.execute(insert(module_instance).values(
        **{**values, "config": wire.dumps(values["config"])})).inserted_primary_key[0]


def update_instance(conn: Connection, module_id: int, values: dict[str, Any]) -> None:
    if "config" in values:
        values = {**values, "config": wire.dumps(values["config"])}
    conn.execute(update(module_instance).where(module_instance.c.id == module_id)
                 .values(**values))


def delete_instance(conn: Connection, module_id: int) -> None:
    """Its services and its module type's rows go with it (foreign keys cascade)."""
    conn.execute(delete(module_instance).where(module_instance.c.id == module_id))


def users_of(conn: Connection, module_id: int, limit: int = 20) -> dict[str, list]:
    """What still holds the instance: tariff plans configuring it, contracts on such a
    plan, contracts with charges or usage of it."""
    plans = conn.execute(
        select(tariff_plan.c.id, tariff_plan.c.title).join(
            tariff_module, tariff_module.c.tariff_id == tariff_plan.c.id)
        .where(tariff_module.c.module_id == module_id).order_by(tariff_plan.c.id)
        .limit(limit)).all()
    contracts = conn.execute(union(
        select(contract_tariff.c.contract_id.label("id")).join(
            tariff_module, tariff_module.c.tariff_id == contract_tariff.c.tariff_id)
        .where(tariff_module.c.module_id == module_id),
        select(charge.c.contract_id.label("id")).where(charge.c.module_id == module_id),
        select(usage.c.contract_id.label("id")).where(usage.c.module_id == module_id))
        .order_by("id").limit(limit)).scalars().all()
    return {"tariffs": [{"id": p.id, "title": p.title} for p in plans],
            "contracts": list(contracts)}


# -- services ------------------------------------------------------------------------------

def list_services(conn: Connection, module_id: int) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(
        select(service).where(service.c.module_id == module_id).order_by(service.c.id))]


def get_service(conn: Connection, module_id: int, service_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(service).where(service.c.id == service_id,
                                             service.c.module_id == module_id)).first()
    return dict(row._mapping) if row else None


def service_ids(conn: Connection, module_id: int) -> set[int]:
    return set(conn.execute(select(service.c.id).where(service.c.module_id == module_id))
               .scalars())


def insert_service(conn: Connection, values: dict[str, Any]) -> int:
    return conn.execute(insert(service).values(**values)).inserted_primary_key[0]


def update_service(conn: Connection, service_id: int, values: dict[str, Any]) -> None:
    conn.execute(update(service).where(service.c.id == service_id).values(**values))

