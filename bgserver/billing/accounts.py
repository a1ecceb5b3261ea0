"""Contracts' accounts on module instances: inet logins, voice numbers.

An account is held over dated days; on one instance a login belongs to one contract at a
time (its history — earlier holders — stays, so usage of their days still finds them).
Each module type with accounts hands an :class:`AccountKind`: its table, and how a login
is written (a phone number as its digits).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.engine import Connection

from bgserver.billing import audit, visibility
from bgserver.billing.access import Caller
from bgserver.billing.errors import Conflict, Invalid, NotFound
from bgserver.storage import modules as module_store
from bgserver.storage.schema import module_instance
from bgshared.api.models import AccountCreate, AccountPatch

MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")


def _field(name: str, message: str) -> Invalid:
    return Invalid(message, [{"field": name, "message": message}])


@dataclass(frozen=True)
class AccountKind:
    table: Any
    #: The login as stored (digits of a number), or raises ValueError saying why not.
    normalize: Callable[[str], str] = lambda login: login
    #: Columns besides the login this kind keeps (password, ip, mac).
    extra: tuple[str, ...] = ()


def _extras(kind: AccountKind, body: Any) -> dict[str, Any]:
    values = {}
    for name in ("password", "ip", "mac"):
        value = getattr(body, name)
        if value is None:
            continue
        if name not in kind.extra:
            raise _field(name, f"accounts of this module type have no {name}")
        if name == "ip":
            try:
                value = str(ipaddress.ip_address(value))
            except ValueError:
                raise _field("ip", "not an IP address") from None
        if name == "mac":
            value = value.lower().replace("-", ":")
            if not MAC.match(value):
                raise _field("mac", "not a MAC address such as 00:11:22:33:44:55")
        values[name] = value
    return values


def _view(row: Any) -> dict[str, Any]:
    """An account as shown: a RADIUS password stays inside (only whether there is one), as
    every reader of the contract would see it."""
    view = dict(row._mapping)
    if "password" in view:
        view["has_password"] = view.pop("password") is not None
    return view


class AccountService:
    def __init__(self, database: Any, clock: Any, registry: Any):
        self.database = database
        self.clock = clock
        self.registry = registry

    def _kinds(self) -> dict[str, AccountKind]:
        return {t.name: t.accounts for t in self.registry if t.accounts is not None}

    async def list(self, caller: Caller, contract_id: int) -> dict[str, Any]:
        """Every account of the contract, ended ones too (the history), by instance."""
        kinds = self._kinds()

        def read(conn):
            visibility.contract(conn, caller, contract_id)
            items = []
            for kind in kinds.values():
                t = kind.table
                items += [_view(r) for r in conn.execute(select(t).where(
                    t.c.contract_id == contract_id).order_by(t.c.id))]
            items.sort(key=lambda a: (a["module_id"], a["date_from"], a["id"]))
            return items

        return {"items": await self.database.run("list_accounts", read, readonly=True),
                "next_cursor": None}

    def _kind_of(self, conn: Connection, module_id: int) -> AccountKind:
        instance = module_store.get_instance(conn, module_id)
        kind = self._kinds().get(instance["type"]) if instance else None
        if kind is None:
            raise _field("module_id", "no such module instance with accounts")
        # one account change of an instance at a time: the overlap check stays true
        conn.execute(update(module_instance).where(module_instance.c.id == module_id)
                     .values(updated_at=module_instance.c.updated_at))
        return kind

    @staticmethod
    def _check_free(conn: Connection, kind: AccountKind, module_id: int, login: str,
                    date_from: date, date_to: date | None, other_than: int | None = None):
        t = kind.table
        query = select(t).where(t.c.module_id == module_id, t.c.login == login,
                                or_(t.c.date_to.is_(None), t.c.date_to >= date_from))
        if date_to is not None:
            query = query.where(t.c.date_from <= date_to)
        if other_than is not None:
            query = query.where(t.c.id != other_than)
        taken = conn.execute(query.limit(1)).first()
        if taken is not None:
            raise Conflict(f"{login} is held by another account on those days", {
                "login": login, "contract_id": taken.contract_id, "from": taken.date_from,
                "to": taken.date_to})

    async def create(self, caller: Caller, contract_id: int,
                     body: AccountCreate) -> dict[str, Any]:
        now, today = self.clock.now(), self.clock.today()
        date_from = body.date_from or today
        if body.date_to is not None and body.date_to < date_from:
            raise _field("to", "ends before it begins")

        def create(conn):
            visibility.contract(conn, caller, contract_id, lock=True)
            kind = self._kind_of(conn, body.module_id)
            try:
                login = kind.normalize(body.login)
            except ValueError as exc:
                raise _field("login", str(exc)) from None
            values = {"module_id": body.module_id, "contract_id": contract_id,
                      "login": login, **_extras(kind, body), "date_from": date_from,
                      "date_to": body.date_to, "created_at": now, "updated_at": now,
                      **caller.actor()}
            self._check_free(conn, kind, body.module_id, login, date_from, body.date_to)
            account_id = conn.execute(insert(kind.table).values(**values)).inserted_primary_key[0]
            view = _view(conn.execute(select(kind.table).where(
                kind.table.c.id == account_id)).one())
            audit.record(conn, caller, "account.create", kind.table.name, account_id,
                         now=now, after=view, contract_id=contract_id)
            return view

        return await self.database.run("create_account", create)

    async def update(self, caller: Caller, contract_id: int, module_id: int, account_id: int,
                     body: AccountPatch) -> dict[str, Any]:
        now = self.clock.now()

        def change(conn):
            visibility.contract(conn, caller, contract_id, lock=True)
            kind = self._kind_of(conn, module_id)
            t = kind.table
            row = conn.execute(select(t).where(and_(
                t.c.id == account_id, t.c.contract_id == contract_id,
                t.c.module_id == module_id))).first()
            if row is None:
                raise NotFound("no such account")
            values = _extras(kind, body)
            if "date_to" in body.model_fields_set:
                if body.date_to is not None and body.date_to < row.date_from:
                    raise _field("to", "ends before it begins")
                values["date_to"] = body.date_to
                self._check_free(conn, kind, module_id, row.login, row.date_from,
                                 body.date_to, other_than=account_id)
            before = _view(row)
            conn.execute(update(t).where(t.c.id == account_id).values(**values,
                                                                       updated_at=now))
            after = _view(conn.execute(select(t).where(t.c.id == account_id)).one())
            audit.record(conn, caller, "account.update", t.name, account_id, now=now,
                         before=before, after=after, contract_id=contract_id)
            return after

        return await self.database.run("update_account", change)
