"""Module types and the registry of them.

A module type (periodic fees, one-time services, Internet, telephony) is a package here
exposing one :class:`ModuleType`: its tables, the model of its part of a tariff plan, its
scheduler task types, loader formats, API routes and cabinet pages. ``bgserver.services``
builds the one :class:`ModuleRegistry` from them and hands it to every service; the kernel
never imports a module type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Table


class ModuleConfig(BaseModel):
    """Base of the config models: unknown keys are mistakes, not extras."""
    model_config = ConfigDict(extra="forbid", validate_default=True)


class TariffConfig(ModuleConfig):
    """A module type's part of a tariff plan."""

    def service_ids(self) -> set[int]:
        """The services of the instance that this config prices (checked to exist)."""
        return set()


@dataclass(frozen=True)
class ModuleType:
    #: ``npay``, ``rscm``, ``inet``, ``voice``: the ``type`` of its instances.
    name: str
    title: str
    #: What a tariff plan holds for an instance of this type.
    tariff_config: type[TariffConfig]
    #: The settings of one instance (``module_instance.config``).
    instance_config: type[ModuleConfig] = ModuleConfig
    #: Its own tables; each row carries ``module_id``, deleted with its instance.
    tables: tuple[Table, ...] = ()
    #: Scheduler task types (``bgserver.scheduler.tasks.TaskType``).
    task_types: tuple[Any, ...] = ()
    #: Loader formats (name -> parser), for its usage sources.
    loader_formats: dict[str, Any] = field(default_factory=dict)
    #: ``routes(api, services)``: adds its API routes.
    routes: Callable[[Any, Any], None] | None = None
    #: Cabinet pages it adds.
    cabinet_pages: tuple[Any, ...] = ()
    #: Its contracts' logins (``bgserver.billing.accounts.AccountKind``), if it has any.
    accounts: Any = None


class ModuleRegistry:
    """The module types of this build, by name."""

    def __init__(self, types: tuple[ModuleType, ...] | list[ModuleType]):
        self._types: dict[str, ModuleType] = {}
        for module_type in types:
            if module_type.name in self._types:
                raise ValueError(f"module type {module_type.name} is registered twice")
            self._types[module_type.name] = module_type

    def __iter__(self) -> Iterator[ModuleType]:
        return iter(self._types.values())

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def get(self, name: str) -> ModuleType | None:
        return self._types.get(name)

    @property
    def names(self) -> list[str]:
        return list(self._types)

    def task_types(self) -> list[Any]:
        return [task for module_type in self for task in module_type.task_types]

    def loader_formats(self) -> dict[str, Any]:
        """Every loader format by name, each knowing its module type."""
        return {name: fmt for module_type in self
                for name, fmt in module_type.loader_formats.items()}
