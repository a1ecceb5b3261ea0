"""Operators, roles and API keys: who may work in the billing and with which rights."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from twisted.internet import threads

from bgserver.billing import audit
from bgserver.billing.access import Caller
from bgserver.billing.auth import API_KEY_PREFIX, new_token, revoked
from bgserver.billing.errors import Conflict, Invalid, NotFound
from bgserver.billing.passwords import check_new_password, hash_password
from bgserver.storage import access as store
from bgshared.api.models import ApiKeyCreate, RoleCreate, RolePatch, UserCreate, UserPatch
from bgshared.api.permissions import PERMISSIONS


def _role_ids(conn, names: list[str]) -> list[int]:
    found = store.roles_by_name(conn, names)
    missing = sorted(set(names) - set(found))
    if missing:
        raise Invalid("unknown roles", {"roles": missing})
    return list(found.values())


def _check_groups(conn, groups: list[int]) -> None:
    missing = sorted(set(groups) - store.existing_groups(conn, groups))
    if missing:
        raise Invalid("unknown contract groups", {"groups": missing})


def _check_permissions(permissions: list[str]) -> None:
    unknown = sorted(set(permissions) - set(PERMISSIONS))
    if unknown:
        raise Invalid("unknown permissions", {"permissions": unknown})


class UserService:
    def __init__(self, database: Any, clock: Any, on_revoke: Any = None):
        self.database = database
        self.clock = clock
        #: Called after a change that may take rights away (the callers cache forgets).
        self.on_revoke = on_revoke or (lambda: None)

    # -- operators ---------------------------------------------------------------------

    async def list_users(self) -> list[dict[str, Any]]:
        return await self.database.run("list_operators", store.list_operators, readonly=True)

    async def get_user(self, operator_id: int) -> dict[str, Any]:
        user = await self.database.run("get_operator", store.get_operator, operator_id,
                                       readonly=True)
        if user is None:
            raise NotFound("no such operator")
        return user

    async def create_user(self, caller: Caller, body: UserCreate) -> dict[str, Any]:
        check_new_password(body.password, body.login)
        password_hash = await threads.deferToThread(hash_password, body.password)
        now = self.clock.now()

        def create(conn):
            role_ids = _role_ids(conn, body.roles)
            _check_groups(conn, body.groups)
            if store.operator_id_by_login(conn, body.login) is not None:
                raise Conflict(f"operator {body.login} exists already")
            try:
                operator_id = store.insert_operator(conn, body.login, body.name, password_hash,
                                                    now)
            except IntegrityError:
                raise Conflict(f"operator {body.login} exists already") from None
            store.set_operator_roles(conn, operator_id, role_ids)
            store.set_operator_groups(conn, operator_id, body.groups)
            user = store.get_operator(conn, operator_id)
            audit.record(conn, caller, "operator.create", "operator", operator_id, now=now,
                         after={**user, "password": "set"})
            return user

        return await self.database.run("create_operator", create)

    async def update_user(self, caller: Caller, operator_id: int,
                          body: UserPatch) -> dict[str, Any]:
        if body.password is not None:
            check_new_password(body.password, (await self.get_user(operator_id))["login"])
        password_hash = (await threads.deferToThread(hash_password, body.password)
                         if body.password else None)
        now = self.clock.now()

        def change(conn):
            before = store.get_operator(conn, operator_id)
            if before is None:
                raise NotFound("no such operator")
            values: dict[str, Any] = {}
            if body.name is not None:
                values["name"] = body.name
            if body.status is not None:
                values["status"] = body.status
            if password_hash is not None:
                values["password_hash"] = password_hash
            store.update_operator(conn, operator_id, **values)
            if body.roles is not None:
                store.set_operator_roles(conn, operator_id, _role_ids(conn, body.roles))
            if body.groups is not None:
                _check_groups(conn, body.groups)
                store.set_operator_groups(conn, operator_id, body.groups)
            if body.status == "disabled" or password_hash is not None:
                # a disabled operator, or one whose password changed, is signed out at once
                store.revoke_operator_sessions(conn, operator_id, now)
            if (body.status, body.roles, body.groups, password_hash) != (None,) * 4:
                revoked(conn, now, operator_id=operator_id)
            after = store.get_operator(conn, operator_id)
            audit.record(conn, caller, "operator.update", "operator", operator_id, now=now,
                         before=before,
                         after={**after, **({"password": "changed"} if password_hash else {})})
            return after

        try:
            return await self.database.run("update_operator", change)
        finally:
            self.on_revoke()

    # -- roles -------------------------------------------------------------------------

    async def list_roles(self) -> list[dict[str, Any]]:
        return await self.database.run("list_roles", store.list_roles, readonly=True)

    async def create_role(self, caller: Caller, body: RoleCreate) -> dict[str, Any]:
        _check_permissions(body.permissions)
        now = self.clock.now()

        def create(conn):
            if store.roles_by_name(conn, [body.name]):
                raise Conflict(f"role {body.name} exists already")
            role_id = store.insert_role(conn, body.name, body.permissions, now)
            role = store.get_role(conn, role_id)
            audit.record(conn, caller, "role.create", "role", role_id, now=now, after=role)
            return role

        return await self.database.run("create_role", create)

    async def update_role(self, caller: Caller, role_id: int, body: RolePatch) -> dict[str, Any]:
        _check_permissions(body.permissions)
        now = self.clock.now()

        def change(conn):
            before = store.get_role(conn, role_id)
            if before is None:
                raise NotFound("no such role")
            if before["builtin"]:
                raise Conflict("the built-in role holds every permission and cannot change")
            store.set_role_permissions(conn, role_id, body.permissions)
            revoked(conn, now, role_id=role_id)
            after = store.get_role(conn, role_id)
            audit.record(conn, caller, "role.update", "role", role_id, now=now, before=before,
                         after=after)
            return after

        try:
            return await self.database.run("update_role", change)
        finally:
            self.on_revoke()

    # -- API keys ----------------------------------------------------------------------

    async def list_api_keys(self) -> list[dict[str, Any]]:
        return await self.database.run("list_api_keys", store.list_api_keys, readonly=True)

    async def create_api_key(self, caller: Caller, body: ApiKeyCreate) -> dict[str, Any]:
        """A new key for outside software; the key itself is returned this once only."""
        key = new_token(API_KEY_PREFIX)
        now = self.clock.now()

        def create(conn):
            role_ids = _role_ids(conn, body.roles)
            key_id = store.insert_api_key(conn, body.title, key,
                                          caller.id if caller.kind == "operator" else None, now)
            store.set_api_key_roles(conn, key_id, role_ids)
            view = store.get_api_key(conn, key_id)
            audit.record(conn, caller, "api_key.create", "api_key", key_id, now=now,
                         after=view)
            return view

        view = await self.database.run("create_api_key", create)
        return {**view, "key": key}

    async def revoke_api_key(self, caller: Caller, key_id: int) -> dict[str, Any]:
        now = self.clock.now()

        def revoke(conn):
            before = store.get_api_key(conn, key_id)
            if before is None:
                raise NotFound("no such API key")
            store.revoke_api_key(conn, key_id, now)
            revoked(conn, now, api_key_id=key_id)
            after = store.get_api_key(conn, key_id)
            audit.record(conn, caller, "api_key.revoke", "api_key", key_id, now=now,
                         before=before, after=after)
            return after

        try:
            return await self.database.run("revoke_api_key", revoke)
        finally:
            self.on_revoke()
