"""Whether a caller may see a contract: one rule for every route, task and cabinet page.

A caller limited to contract groups sees a contract that is in at least one of them
(:meth:`Caller.sees`), a subscriber only its own (:meth:`Caller.sees_contract`); any other
contract does not exist for it — 404, never 403, so that
its existence does not leak. Lists apply the same rule in SQL
(:func:`bgserver.storage.contracts.visible_to`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from bgserver.billing.access import Caller
from bgserver.billing.errors import NotFound
from bgserver.storage import contracts as store


def _missing() -> NotFound:
    return NotFound("no such contract")


def card(caller: Caller, view: dict[str, Any] | None) -> dict[str, Any]:
    """A contract card read already (it carries its ``groups``), if the caller sees it."""
    if view is None or not caller.sees_contract(view["id"], view["groups"]):
        raise _missing()
    return view


def contract(conn: Connection, caller: Caller, contract_id: int, *, lock: bool = False):
    """The contract's money row (locked for a change with ``lock``), if the caller sees it."""
    row = contracts(conn, [(caller, contract_id)], lock=lock)[0]
    if row is None:
        raise _missing()
    return row


def contracts(conn: Connection, wanted: list[tuple[Caller, int]], *,
              lock: bool = False) -> list[Any]:
    """For each (caller, contract id): the contract's money row, or None where it is not
    there for that caller. With ``lock`` all are locked at once, in id order."""
    ids = sorted({contract_id for _, contract_id in wanted})
    rows = store.money_rows(conn, ids, lock=lock)
    groups = (store.groups_of(conn, sorted(rows))
              if any(caller.groups is not None for caller, _ in wanted) else {})
    return [rows[contract_id] if contract_id in rows
            and caller.sees_contract(contract_id, groups.get(contract_id, ())) else None
            for caller, contract_id in wanted]
