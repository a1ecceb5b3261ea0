"""Store of periodic fees: what a day's run reads, a batch of contracts at a time, and the
keys it writes. Every read is one statement for the whole batch."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.engine import Connection

from bgserver.modules.npay.tables import npay_charge
from bgserver.storage.database import insert_rows
from bgserver.storage.schema import (contract, contract_status, contract_tariff,
                                     module_instance, tariff_module)


def instance(conn: Connection, module_id: int):
    return conn.execute(select(module_instance.c.type, module_instance.c.config).where(
        module_instance.c.id == module_id)).first()


def tariff_configs(conn: Connection, module_id: int) -> list[Any]:
    """(tariff id, config JSON) of every tariff plan with a part for this instance."""
    return conn.execute(select(tariff_module.c.tariff_id, tariff_module.c.config).where(
        tariff_module.c.module_id == module_id)).all()


def _overlapping(table, first: date, last: date):
    return and_(table.c.date_from <= last,
                or_(table.c.date_to.is_(None), table.c.date_to >= first))


_NEXT_CONTRACTS = (
    select(contract_tariff.c.contract_id)
    .where(contract_tariff.c.contract_id > bindparam("after"),
           contract_tariff.c.tariff_id.in_(bindparam("tariffs", expanding=True)),
           _overlapping(contract_tariff, bindparam("first"), bindparam("last")))
    .order_by(contract_tariff.c.contract_id).limit(bindparam("limit"))
    # walk by contract: by the plan, MariaDB would sort all the plan's contracts each time
    .with_hint(contract_tariff, "FORCE INDEX (ix_contract_tariff_contract_id_date_from)",
               "mysql"))


def next_contracts(conn: Connection, tariff_ids: list[int], after: int, first: date,
                   last: date, limit: int) -> list[int]:
    """Up to ``limit`` contracts, the next by id after ``after``, with a period over
    ``first``..``last`` on one of these tariff plans. The contracts are walked in the order
    of their index: each batch costs the same however far the walk has come."""
    if not tariff_ids:
        return []
    ids = conn.execute(_NEXT_CONTRACTS, {"tariffs": tariff_ids, "after": after, "first": first,
                                         "last": last, "limit": limit}).scalars()
    return list(dict.fromkeys(ids))


_IDS = bindparam("ids", expanding=True)
_DATES = select(contract.c.id, contract.c.date_from, contract.c.date_to).where(
    contract.c.id.in_(_IDS))
_TARIFFS = (select(contract_tariff.c.contract_id, contract_tariff.c.tariff_id,
                   contract_tariff.c.date_from, contract_tariff.c.date_to, contract_tariff.c.id)
            .where(contract_tariff.c.contract_id.in_(_IDS),
                   _overlapping(contract_tariff, bindparam("first"), bindparam("last"))))
_STATUSES = (select(contract_status.c.contract_id, contract_status.c.status,
                    contract_status.c.reason, contract_status.c.date_from,
                    contract_status.c.date_to, contract_status.c.id)
             .where(contract_status.c.contract_id.in_(_IDS),
                    contract_status.c.applied.is_(True),
                    _overlapping(contract_status, bindparam("first"), bindparam("last"))))


def contract_dates(conn: Connection, ids: list[int]) -> list[Any]:
    return conn.execute(_DATES, {"ids": ids}).all()


def tariff_periods(conn: Connection, ids: list[int], first: date, last: date) -> list[Any]:
    """The contracts' tariff periods over ``first``..``last``, whatever their plans."""
    return conn.execute(_TARIFFS, {"ids": ids, "first": first, "last": last}).all()


def status_periods(conn: Connection, ids: list[int], first: date, last: date) -> list[Any]:
    """The contracts' status periods in force (applied) over ``first``..``last``."""
    return conn.execute(_STATUSES, {"ids": ids, "first": first, "last": last}).all()


def charged(conn: Connection, module_id: int, ids: list[int], day: date, month: date,
            advance_services: set[int]) -> list[Any]:
    """The keys charged for these contracts on ``day``, and since ``month`` began for the
    services some plan charges in advance (what a month holds is read from them)."""
    on_day = npay_charge.c.day == day
    if advance_services:
        on_day = or_(on_day, npay_charge.c.service_id.in_(sorted(advance_services)))
    return conn.execute(select(npay_charge.c.contract_id, npay_charge.c.service_id,
                               npay_charge.c.day, npay_charge.c.kind).where(
        npay_charge.c.module_id == module_id, npay_charge.c.contract_id.in_(ids),
        npay_charge.c.day.between(month, day), on_day)).all()


_NAMES = ("module_id", "contract_id", "service_id", "day", "kind", "charge_id", "amount")


def insert_charges(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """The keys of the fees just booked, in one statement; a key there already (another run
    charged it meanwhile) fails the unit of work."""
    if rows:
        insert_rows(conn, npay_charge, _NAMES, rows)
