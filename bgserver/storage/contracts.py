"""Store of contracts and contract groups."""

from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import and_, bindparam, delete, exists, insert, select, union, update
from sqlalchemy.engine import Connection

from bgserver.storage import params as param_store
from bgserver.storage.schema import (contract, contract_group, contract_group_link,
                                     number_sequence, temporary_limit)

#: What the API shows of a contract (the cabinet password hash stays inside), read from
#: :data:`CARD`; the temporary limit's two columns become one field (:func:`_cards`).
VIEW_COLUMNS = [contract.c.id, contract.c.number, contract.c.title, contract.c.person_type,
                contract.c.mode, contract.c.limit, contract.c.balance, contract.c.status,
                contract.c.date_from, contract.c.date_to, contract.c.comment,
                contract.c.created_at, contract.c.updated_at,
                temporary_limit.c.limit.label("temporary_limit"),
                temporary_limit.c.until.label("temporary_limit_until")]
#: A contract and its temporary limit, if it has one.
CARD = contract.outerjoin(temporary_limit)


def next_number(conn: Connection, sequence: str) -> int:
    """The next value of a named counter, under a row lock (no two contracts share it)."""
    current = conn.execute(select(number_sequence.c.value).where(
        number_sequence.c.name == sequence).with_for_update()).scalar()
    if current is None:
        conn.execute(insert(number_sequence).values(name=sequence, value=1))
        return 1
    conn.execute(update(number_sequence).where(number_sequence.c.name == sequence)
                 .values(value=current + 1))
    return current + 1


def number_taken(conn: Connection, number: str) -> bool:
    return conn.execute(select(contract.c.id).where(contract.c.number == number)).first() \
        is not None


def insert_contract(conn: Connection, values: dict[str, Any]) -> int:
    return conn.execute(insert(contract).values(**values)).inserted_primary_key[0]


def update_contract(conn: Connection, contract_id: int, values: dict[str, Any]) -> None:
    conn.execute(update(contract).where(contract.c.id == contract_id).values(**values))


def set_contract_groups(conn: Connection, contract_id: int, group_ids: Iterable[int]) -> None:
    conn.execute(delete(contract_group_link).where(
        contract_group_link.c.contract_id == contract_id))
    rows = [{"contract_id": contract_id, "group_id": g} for g in sorted(set(group_ids))]
    if rows:
        conn.execute(insert(contract_group_link), rows)


#: What a movement of money needs of its contract (and locks).
MONEY_COLUMNS = [contract.c.id, contract.c.mode, contract.c.limit, contract.c.balance,
                 contract.c.status, contract.c.date_from]


#: Statements of every request, built once (``ids``: a list bound when executed).
_MONEY_ROWS = (select(*MONEY_COLUMNS).where(contract.c.id.in_(bindparam("ids", expanding=True)))
               .order_by(contract.c.id))
_LOCK_FOR_MONEY = _MONEY_ROWS.with_for_update()
_GROUPS_OF = (select(contract_group_link.c.contract_id, contract_group_link.c.group_id)
              .where(contract_group_link.c.contract_id.in_(bindparam("ids", expanding=True)))
              .order_by(contract_group_link.c.group_id))
_VIEWS = select(*VIEW_COLUMNS).select_from(CARD).where(
    contract.c.id.in_(bindparam("ids", expanding=True)))
_VIEWS_LOCKED = _VIEWS.order_by(contract.c.id).with_for_update()


def money_rows(conn: Connection, ids: list[int], *, lock: bool = False) -> dict[int, Any]:
    """The money fields of these contracts; with ``lock`` under a write lock (one movement
    of a contract at a time), taken in id order so that two units locking overlapping sets
    cannot deadlock."""
    return {row.id: row for row in conn.execute(_LOCK_FOR_MONEY if lock else _MONEY_ROWS,
                                                {"ids": sorted(set(ids))})}


def money_row(conn: Connection, contract_id: int, *, lock: bool = False):
    """One contract's money fields, whoever asks (visibility is the caller's business)."""
    return money_rows(conn, [contract_id], lock=lock).get(contract_id)


def groups_of(conn: Connection, ids: list[int]) -> dict[int, list[int]]:
    groups: dict[int, list[int]] = {i: [] for i in ids}
    if ids:
        for contract_id, group_id in conn.execute(_GROUPS_OF, {"ids": list(ids)}):
            groups[contract_id].append(group_id)
    return groups


def get_contract(conn: Connection, contract_id: int, *, lock: bool = False) -> dict[str, Any] | None:
    return get_contracts(conn, [contract_id], lock=lock).get(contract_id)


def get_contracts(conn: Connection, ids: list[int], *, lock: bool = False) -> dict[int, dict[str, Any]]:
    """Contract views by id, groups and parameter values included; missing ids are left
    out. Three statements for any number of contracts."""
    rows = conn.execute(_VIEWS_LOCKED if lock else _VIEWS, {"ids": sorted(set(ids))})
    return {row["id"]: row for row in _cards(conn, rows)}


def _cards(conn: Connection, rows: Iterable[Any]) -> list[dict[str, Any]]:
    """Rows of :data:`VIEW_COLUMNS` made contract cards: with groups, parameter values and
    the temporary limit as one field (``null`` or ``{"limit", "until"}``)."""
    cards = [dict(r._mapping) for r in rows]
    ids = [c["id"] for c in cards]
    group_map, param_map = groups_of(conn, ids), param_store.values_of(conn, ids)
    for card in cards:
        card["groups"] = group_map[card["id"]]
        card["params"] = param_map[card["id"]]
        until = card.pop("temporary_limit_until")
        card["temporary_limit"] = (None if until is None else
                                   {"limit": card["temporary_limit"], "until": until})
    return cards


def visible_to(groups: frozenset[int] | None):
    """:mod:`bgserver.billing.visibility`'s rule as a condition for lists: the contract is
    in one of ``groups`` (None: every contract)."""
    if groups is None:
        return None
    return exists().where(contract_group_link.c.contract_id == contract.c.id,
                          contract_group_link.c.group_id.in_(sorted(groups)))


def search_contracts(conn: Connection, q: str | None, groups: frozenset[int] | None,
                     after_id: int | None, limit: int) -> list[dict[str, Any]]:
    """Contracts by id order, ``q`` matching the start of the number, of the title or of a
    parameter's value (prefixes, so that indexes serve them on 100,000 contracts)."""
    query = select(*VIEW_COLUMNS).select_from(CARD).order_by(contract.c.id).limit(limit)
    conditions = []
    if q:
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        # one indexed look-up per field, united (an OR would make the database scan)
        matches = union(
            select(contract.c.id).where(contract.c.number.like(escaped + "%", escape="\\")),
            select(contract.c.id).where(contract.c.title.like(escaped + "%", escape="\\")),
            param_store.search_ids(q)).subquery()
        conditions.append(contract.c.id.in_(select(matches.c.id)))
    if after_id is not None:
        conditions.append(contract.c.id > after_id)
    visible = visible_to(groups)
    if visible is not None:
        conditions.append(visible)
    if conditions:
        query = query.where(and_(*conditions))
    return _cards(conn, conn.execute(query))


def list_groups(conn: Connection) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(
        select(contract_group).order_by(contract_group.c.id))]


def insert_group(conn: Connection, title: str) -> int:
    return conn.execute(insert(contract_group).values(title=title)).inserted_primary_key[0]


def group_title_taken(conn: Connection, title: str) -> bool:
    return conn.execute(select(contract_group.c.id).where(
        contract_group.c.title == title)).first() is not None

