"""Store of rscm orders."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from bgserver.modules.rscm.tables import rscm_order


def insert_order(conn: Connection, values: dict[str, Any]) -> int:
    return conn.execute(insert(rscm_order).values(**values)).inserted_primary_key[0]


def get_order(conn: Connection, contract_id: int, order_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(rscm_order).where(rscm_order.c.id == order_id,
                                                rscm_order.c.contract_id == contract_id)).first()
    return dict(row._mapping) if row else None


def list_orders(conn: Connection, contract_id: int, after_id: int | None,
                limit: int) -> list[dict[str, Any]]:
    query = select(rscm_order).where(rscm_order.c.contract_id == contract_id)
    if after_id is not None:
        query = query.where(rscm_order.c.id > after_id)
    return [dict(r._mapping) for r in conn.execute(query.order_by(rscm_order.c.id).limit(limit))]


def mark_cancelled(conn: Connection, order_id: int, now: datetime, actor: dict[str, Any],
                   reason: str, refund_charge_id: int) -> None:
    conn.execute(update(rscm_order).where(rscm_order.c.id == order_id).values(
        cancelled_at=now, cancel_reason=reason, refund_charge_id=refund_charge_id, **actor))
