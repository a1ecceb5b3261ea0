"""Store of tariff plans (their groups and per-instance configs) and contracts' tariff
periods."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.engine import Connection

from bgserver.storage.schema import (contract_tariff, tariff_module, tariff_plan,
                                     tariff_plan_group)
from bgshared import wire


def _plans(conn: Connection, rows) -> list[dict[str, Any]]:
    """Plan rows with their ``groups`` and ``modules`` (instance id -> config)."""
    plans = [dict(r._mapping) for r in rows]
    ids = [p["id"] for p in plans]
    groups: dict[int, list[int]] = {i: [] for i in ids}
    modules: dict[int, dict[str, Any]] = {i: {} for i in ids}
    if ids:
        for tariff_id, group_id in conn.execute(
                select(tariff_plan_group.c.tariff_id, tariff_plan_group.c.group_id)
                .where(tariff_plan_group.c.tariff_id.in_(ids))
                .order_by(tariff_plan_group.c.group_id)):
            groups[tariff_id].append(group_id)
        for row in conn.execute(select(tariff_module).where(tariff_module.c.tariff_id.in_(ids))
                                .order_by(tariff_module.c.module_id)):
            modules[row.tariff_id][str(row.module_id)] = wire.loads(row.config)
    for plan in plans:
        plan["groups"] = groups[plan["id"]]
        plan["modules"] = modules[plan["id"]]
    return plans


def list_plans(conn: Connection) -> list[dict[str, Any]]:
    return _plans(conn, conn.execute(select(tariff_plan).order_by(tariff_plan.c.id)))


def get_plan(conn: Connection, tariff_id: int) -> dict[str, Any] | None:
    found = _plans(conn, conn.execute(select(tariff_plan).where(tariff_plan.c.id == tariff_id)))
    return found[0] if found else None


def title_taken(conn: Connection, title: str, other_than: int | None = None) -> bool:
    query = select(tariff_plan.c.id).where(tariff_plan.c.title == title)
    if other_than is not None:
        query = query.where(tariff_plan.c.id != other_than)
    return conn.execute(query).first() is not None


def insert_plan(conn: Connection, values: dict[str, Any]) -> int:
    return conn.execute(insert(tariff_plan).values(**values)).inserted_primary_key[0]


def update_plan(conn: Connection, tariff_id: int, values: dict[str, Any]) -> None:
    conn.execute(update(tariff_plan).where(tariff_plan.c.id == tariff_id).values(**values))


def set_plan_groups(conn: Connection, tariff_id: int, group_ids: list[int]) -> None:
    conn.execute(delete(tariff_plan_group).where(tariff_plan_group.c.tariff_id == tariff_id))
    if group_ids:
        conn.execute(insert(tariff_plan_group), [
            {"tariff_id": tariff_id, "group_id": g} for g in sorted(set(group_ids))])


def set_plan_modules(conn: Connection, tariff_id: int, configs: dict[int, Any]) -> None:
    conn.execute(delete(tariff_module).where(tariff_module.c.tariff_id == tariff_id))
    if configs:
        conn.execute(insert(tariff_module), [
            {"tariff_id": tariff_id, "module_id": module_id, "config": wire.dumps(config)}
            for module_id, config in sorted(configs.items())])


def module_config(conn: Connection, tariff_id: int, module_id: int) -> Any | None:
    """The plan's config for one instance (JSON), or None when the plan leaves it out."""
    raw = conn.execute(select(tariff_module.c.config).where(
        tariff_module.c.tariff_id == tariff_id, tariff_module.c.module_id == module_id)).scalar()
    return None if raw is None else wire.loads(raw)


# -- a contract's periods ------------------------------------------------------------------

def periods(conn: Connection, contract_id: int) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(
        select(contract_tariff, tariff_plan.c.title.label("tariff_title"))
        .join(tariff_plan, tariff_plan.c.id == contract_tariff.c.tariff_id)
        .where(contract_tariff.c.contract_id == contract_id)
        .order_by(contract_tariff.c.date_from, contract_tariff.c.id))]


def latest_period(conn: Connection, contract_id: int):
    return conn.execute(select(contract_tariff).where(
        contract_tariff.c.contract_id == contract_id)
        .order_by(contract_tariff.c.date_from.desc(), contract_tariff.c.id.desc())
        .limit(1)).first()


def in_force(conn: Connection, contract_id: int, day: date):
    """The period covering ``day``, if any."""
    return conn.execute(select(contract_tariff).where(
        contract_tariff.c.contract_id == contract_id, contract_tariff.c.date_from <= day,
        or_(contract_tariff.c.date_to.is_(None), contract_tariff.c.date_to >= day))
        .order_by(contract_tariff.c.date_from.desc()).limit(1)).first()


def periods_of(conn: Connection, contract_ids: list[int]
               ) -> dict[int, list[tuple[date, date | None, int]]]:
    """Each contract's periods ``(date_from, date_to, tariff_id)``, latest start first (the
    order :func:`in_force` picks by): a batch of records looks its tariffs up in these."""
    found: dict[int, list[tuple[date, date | None, int]]] = {i: [] for i in contract_ids}
    ids = sorted(set(contract_ids))
    for start in range(0, len(ids), 1000):
        for row in conn.execute(select(
                contract_tariff.c.contract_id, contract_tariff.c.date_from,
                contract_tariff.c.date_to, contract_tariff.c.tariff_id).where(
                contract_tariff.c.contract_id.in_(ids[start:start + 1000]))
                .order_by(contract_tariff.c.contract_id, contract_tariff.c.date_from.desc())):
            found[row.contract_id].append((row.date_from, row.date_to, row.tariff_id))
    return found


def module_configs(conn: Connection, tariff_ids: list[int], module_id: int) -> dict[int, str]:
    """The plans' configs for one instance as stored (JSON text); plans that leave the
    instance out are not there."""
    if not tariff_ids:
        return {}
    return dict(conn.execute(select(tariff_module.c.tariff_id, tariff_module.c.config).where(
        tariff_module.c.tariff_id.in_(sorted(set(tariff_ids))),
        tariff_module.c.module_id == module_id)).all())


def insert_period(conn: Connection, values: dict[str, Any]) -> int:
    return conn.execute(insert(contract_tariff).values(**values)).inserted_primary_key[0]


def end_period(conn: Connection, period_id: int, last_day: date) -> None:
    conn.execute(update(contract_tariff).where(contract_tariff.c.id == period_id)
                 .values(date_to=last_day))


def get_period(conn: Connection, contract_id: int, period_id: int):
    return conn.execute(select(contract_tariff).where(and_(
        contract_tariff.c.id == period_id, contract_tariff.c.contract_id == contract_id))).first()


def delete_period(conn: Connection, period_id: int) -> None:
    conn.execute(delete(contract_tariff).where(contract_tariff.c.id == period_id))


def contracts_on(conn: Connection, tariff_id: int, limit: int = 20) -> list[int]:
    return list(conn.execute(select(contract_tariff.c.contract_id).where(
        contract_tariff.c.tariff_id == tariff_id).distinct()
        .order_by(contract_tariff.c.contract_id).limit(limit)).scalars())
