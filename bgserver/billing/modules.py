"""Module instances and their services: "Internet, Moscow" of type inet and what it sells.

Each instance's settings are checked against its module type's model from the registry;
the kernel knows module types only through the registry it is handed.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from bgserver.billing import audit
from bgserver.billing.access import Caller
from bgserver.billing.errors import Conflict, Invalid, NotFound, field_errors
from bgserver.modules import ModuleRegistry, ModuleType
from bgserver.scheduler.control import add_default_tasks
from bgserver.scheduler.tasks import TaskTypes
from bgserver.storage import modules as store
from bgshared.api.models import ModuleCreate, ModulePatch, ServiceCreate, ServicePatch


def checked_config(model: type, config: Any, field: str) -> dict[str, Any]:
    """``config`` validated by a module type's model, as JSON; 422 naming each wrong field
    under ``field`` (``config``, ``modules.3``)."""
    try:
        return model.model_validate(config).model_dump(mode="json")
    except ValidationError as exc:
        raise Invalid(f"{field} is not valid", field_errors(exc, field)) from None


class ModuleService:
    def __init__(self, database: Any, clock: Any, registry: ModuleRegistry):
        self.database = database
        self.clock = clock
        self.registry = registry

    def module_type(self, name: str) -> ModuleType:
        found = self.registry.get(name)
        if found is None:
            raise Invalid(f"unknown module type {name!r}",
                          [{"field": "type", "message": f"one of {', '.join(self.registry.names)}"}])
        return found

    def types(self) -> list[dict[str, Any]]:
        """The module types with the JSON Schemas of their configs: clients build forms
        from them."""
        return [{"name": t.name, "title": t.title,
                 "tariff_config": t.tariff_config.model_json_schema(),
                 "instance_config": t.instance_config.model_json_schema()}
                for t in self.registry]

    @staticmethod
    def check_task_module(conn, module_id: int, module_type: str) -> None:
        """A scheduler task of a module type names an instance of that type."""
        found = store.get_instance(conn, module_id)
        if found is None or found["type"] != module_type:
            raise Invalid("no such module instance", [{
                "field": "module_id", "message": f"no module instance {module_id} of type "
                                                 f"{module_type}"}])

    @staticmethod
    def instance(conn, module_id: int) -> dict[str, Any]:
        found = store.get_instance(conn, module_id)
        if found is None:
            raise NotFound("no such module instance", {"module_id": module_id})
        return found

    # -- instances -------------------------------------------------------------------------

    async def list(self) -> list[dict[str, Any]]:
        return await self.database.run("list_modules", store.list_instances, readonly=True)

    async def get(self, module_id: int) -> dict[str, Any]:
        return await self.database.run("get_module", self.instance, module_id, readonly=True)

    async def create(self, caller: Caller, body: ModuleCreate) -> dict[str, Any]:
        module_type = self.module_type(body.type)
        config = checked_config(module_type.instance_config, body.config, "config")
        now = self.clock.now()

        def create(conn):
            module_id = store.insert_instance(conn, {
                "type": body.type, "title": body.title, "config": config, "enabled": True,
                "created_at": now, "updated_at": now})
            view = self.instance(conn, module_id)
            audit.record(conn, caller, "module.create", "module", module_id, now=now,
                         after=view)
            # its type's scheduler tasks (npay.charge...), with their default times
            add_default_tasks(conn, TaskTypes(self.registry.task_types()), caller, now,
                              module_type=body.type, module_id=module_id)
            return view

        return await self.database.run("create_module", create)

    async def update(self, caller: Caller, module_id: int, body: ModulePatch) -> dict[str, Any]:
        changes = body.model_dump(exclude_unset=True)
        for key in ("title", "enabled", "config"):
            if key in changes and changes[key] is None:
                raise Invalid(f"{key} cannot be null")
        now = self.clock.now()

        def change(conn):
            before = self.instance(conn, module_id)
            if "config" in changes:
                changes["config"] = checked_config(
                    self.module_type(before["type"]).instance_config, changes["config"], "config")
            store.update_instance(conn, module_id, {**changes, "updated_at": now})
            after = self.instance(conn, module_id)
            audit.record(conn, caller, "module.update", "module", module_id, now=now,
                         before=before, after=after)
            return after

        return await self.database.run("update_module", change)

    async def delete(self, caller: Caller, module_id: int) -> None:
        """Drops the instance's whole block; refused while anything still uses it."""
        now = self.clock.now()

        def drop(conn):
            before = self.instance(conn, module_id)
            users = store.users_of(conn, module_id)
            if users["tariffs"] or users["contracts"]:
                raise Conflict("the module instance is in use; disable it instead", users)
            store.delete_instance(conn, module_id)
            audit.record(conn, caller, "module.delete", "module", module_id, now=now,
                         before=before)

        await self.database.run("delete_module", drop)

    # -- services --------------------------------------------------------------------------

    async def services(self, module_id: int) -> list[dict[str, Any]]:
        def read(conn):
            self.instance(conn, module_id)
            return store.list_services(conn, module_id)

        return await self.database.run("list_services", read, readonly=True)

    async def create_service(self, caller: Caller, module_id: int,
                             body: ServiceCreate) -> dict[str, Any]:
        now = self.clock.now()

        def create(conn):
            self.instance(conn, module_id)
            service_id = store.insert_service(conn, {
                "module_id": module_id, "title": body.title, "unit": body.unit,
                "enabled": True, "created_at": now})
            view = store.get_service(conn, module_id, service_id)
            audit.record(conn, caller, "service.create", "service", service_id, now=now,
                         after=view)
            return view

        return await self.database.run("create_service", create)

    async def update_service(self, caller: Caller, module_id: int, service_id: int,
                             body: ServicePatch) -> dict[str, Any]:
        changes = body.model_dump(exclude_unset=True)
        for key in ("title", "unit", "enabled"):
            if key in changes and changes[key] is None:
                raise Invalid(f"{key} cannot be null")
        now = self.clock.now()

        def change(conn):
            before = store.get_service(conn, module_id, service_id)
            if before is None:
                raise NotFound("no such service", {"service_id": service_id})
            if changes:
                store.update_service(conn, service_id, changes)
            after = store.get_service(conn, module_id, service_id)
            audit.record(conn, caller, "service.update", "service", service_id, now=now,
                         before=before, after=after)
            return after

        return await self.database.run("update_service", change)
