"""Store of parameter definitions, contracts' values and their history.

Values are kept as canonical text (what :func:`bgserver.billing.params.encode` makes of
them) and read back typed by :func:`decode`, so both databases store the same thing.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.engine import Connection

from bgserver.storage import words as word_store
from bgserver.storage.schema import contract_param, contract_param_history, param_definition

SEARCH_CHARS = 191


def decode(param_type: str, text: str | None) -> Any:
    """The typed value of a stored canonical text (None stays None: a removed value)."""
    if text is None:
        return None
    if param_type == "int":
        return int(text)
    if param_type == "decimal":
        return Decimal(text)
    if param_type == "date":
        return date.fromisoformat(text)
    if param_type == "flag":
        return text == "true"
    if param_type == "address":
        return json.loads(text)
    return text


def _definition(row) -> dict[str, Any]:
    view = dict(row._mapping)
    view["options"] = json.loads(view["options"]) if view["options"] else None
    return view


# -- definitions -----------------------------------------------------------------------

def list_definitions(conn: Connection) -> list[dict[str, Any]]:
    return [_definition(r) for r in conn.execute(
        select(param_definition).order_by(param_definition.c.id))]


def get_definition(conn: Connection, key: str) -> dict[str, Any] | None:
    row = conn.execute(select(param_definition).where(param_definition.c.key == key)).first()
    return None if row is None else _definition(row)


def insert_definition(conn: Connection, *, key: str, title: str, type: str,
                      options: list[str] | None, cabinet_read: bool, cabinet_write: bool,
                      history: bool, created_at: datetime) -> int:
    return conn.execute(insert(param_definition).values(
        key=key, title=title, type=type,
        options=None if options is None else json.dumps(options, ensure_ascii=False),
        cabinet_read=cabinet_read, cabinet_write=cabinet_write, history=history,
        created_at=created_at)).inserted_primary_key[0]


# -- values ----------------------------------------------------------------------------

def get_value(conn: Connection, contract_id: int, param_id: int) -> dict[str, Any] | None:
    """``{"value": canonical text, "updated_at"}`` or None when the contract has none."""
    row = conn.execute(select(contract_param.c.value, contract_param.c.updated_at).where(
        contract_param.c.contract_id == contract_id,
        contract_param.c.param_id == param_id)).first()
    return None if row is None else dict(row._mapping)


def set_value(conn: Connection, contract_id: int, param_id: int, value: str,
              updated_at: datetime, search: str | None = None) -> None:
    """Insert or replace; callers hold the contract's row lock, so no two race here.

    ``search`` is the text whose words contract search matches (default: the value
    itself)."""
    search = value if search is None else search
    values = {"value": value, "updated_at": updated_at,
              "search": search.lower()[:SEARCH_CHARS]}
    word_store.replace_words(conn, contract_id, word_store.source_of_param(param_id), search)
    where = (contract_param.c.contract_id == contract_id,
             contract_param.c.param_id == param_id)
    if conn.execute(select(contract_param.c.param_id).where(*where)).first() is None:
        conn.execute(insert(contract_param).values(contract_id=contract_id,
                                                   param_id=param_id, **values))
    else:
        conn.execute(update(contract_param).where(*where).values(**values))


def remove_value(conn: Connection, contract_id: int, param_id: int) -> bool:
    word_store.replace_words(conn, contract_id, word_store.source_of_param(param_id), None)
    return conn.execute(delete(contract_param).where(
        contract_param.c.contract_id == contract_id,
        contract_param.c.param_id == param_id)).rowcount > 0


def contract_values(conn: Connection, contract_id: int) -> list[dict[str, Any]]:
    """A contract's set values with their definitions, in definition order, typed."""
    query = (select(param_definition.c.key, param_definition.c.title, param_definition.c.type,
                    contract_param.c.value, contract_param.c.updated_at)
             .join(param_definition, param_definition.c.id == contract_param.c.param_id)
             .where(contract_param.c.contract_id == contract_id)
             .order_by(param_definition.c.id))
    rows = [dict(r._mapping) for r in conn.execute(query)]
    for row in rows:
        row["value"] = decode(row["type"], row["value"])
    return rows


def values_of(conn: Connection, contract_ids: list[int]) -> dict[int, dict[str, Any]]:
    """For contract views: contract id -> {key: typed value}; every id present."""
    found: dict[int, dict[str, Any]] = {i: {} for i in contract_ids}
    if contract_ids:
        for row in conn.execute(_VALUES_OF, {"ids": sorted(set(contract_ids))}):
            found[row.contract_id][row.key] = decode(row.type, row.value)
    return found


_VALUES_OF = (select(contract_param.c.contract_id, param_definition.c.key,
                     param_definition.c.type, contract_param.c.value)
              .join(param_definition, param_definition.c.id == contract_param.c.param_id)
              .where(contract_param.c.contract_id.in_(bindparam("ids", expanding=True)))
              .order_by(contract_param.c.contract_id, param_definition.c.id))


# -- history ---------------------------------------------------------------------------

def insert_history(conn: Connection, contract_id: int, param_id: int, value: str | None,
                   changed_at: datetime, actor: dict[str, Any]) -> None:
    conn.execute(insert(contract_param_history).values(
        contract_id=contract_id, param_id=param_id, value=value, changed_at=changed_at,
        **actor))


def history(conn: Connection, contract_id: int, definition: dict[str, Any]) -> list[dict[str, Any]]:
    """Every kept change of one parameter of a contract, newest first, typed."""
    h = contract_param_history
    rows = [dict(r._mapping) for r in conn.execute(
        select(h.c.id, h.c.value, h.c.changed_at, h.c.actor_type, h.c.actor_id, h.c.actor_name)
        .where(h.c.contract_id == contract_id, h.c.param_id == definition["id"])
        .order_by(h.c.id.desc()))]
    for row in rows:
        row["value"] = decode(definition["type"], row["value"])
    return rows
