"""The bgserver HTTP application: the services the routes call, and every route module."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bgserver.api import (accounts, audit, auth, contracts, events, loader, modules, money,
                          params, scheduler, system, tariffs, users)
from bgserver.api.routing import Api
from bgserver.billing.accounts import AccountService
from bgserver.billing.audit import AuditService
from bgserver.billing.auth import AuthService
from bgserver.billing.contracts import ContractService
from bgserver.billing.modules import ModuleService
from bgserver.billing.money import MoneyService
from bgserver.billing.params import ParamService
from bgserver.billing.records import RecordService
from bgserver.billing.tariffs import TariffService
from bgserver.billing.users import UserService
from bgserver.config import Settings
from bgserver.events.live import LiveEvents
from bgserver.loader.admin import LoaderAdmin
from bgserver.modules import ModuleRegistry
from bgserver.scheduler.control import TaskService
from bgserver.scheduler.tasks import TaskTypes, kernel_task_types

ROUTE_MODULES = (system, auth, users, contracts, params, money, modules, tariffs, audit,
                 events, scheduler, accounts, loader)


@dataclass
class ApiServices:
    database: Any
    bus: Any
    clock: Any
    settings: Settings
    auth: AuthService
    users: UserService
    contracts: ContractService
    params: ParamService
    money: MoneyService
    audit: AuditService
    registry: ModuleRegistry
    modules: ModuleService
    tariffs: TariffService
    live: LiveEvents
    scheduler: TaskService
    accounts: AccountService
    loader: LoaderAdmin
    records: RecordService

    @classmethod
    def build(cls, database: Any, bus: Any, clock: Any, settings: Settings,
              registry: ModuleRegistry) -> "ApiServices":
        """``registry``: the module types of this build, with their task types and routes."""
        auth = AuthService(database, clock, settings.auth)
        # rights taken away on any bgserver: every one forgets the callers it remembers
        bus.subscribe("access.revoked", lambda event: auth.cache.clear())
        return cls(database, bus, clock, settings, auth,
                   UserService(database, clock, on_revoke=auth.cache.clear),
                   ContractService(database, clock, settings.contracts, bus),
                   ParamService(database, clock),
                   MoneyService(database, clock),
                   AuditService(database), registry,
                   ModuleService(database, clock, registry),
                   TariffService(database, clock, registry),
                   LiveEvents(database, bus, on_access=auth.cache.clear),
                   TaskService(database, clock, TaskTypes(task_types(registry)),
                               ModuleService.check_task_module),
                   AccountService(database, clock, registry),
                   LoaderAdmin(database, clock, registry, settings.loader.spool),
                   RecordService(database, clock))


def task_types(registry: ModuleRegistry) -> list:
    """Every scheduler task type of this build: the kernel's and the module types'."""
    return [*kernel_task_types(), *registry.task_types()]


def build_api(services: ApiServices) -> Api:
    api = Api(services.auth.authenticate)
    for module in ROUTE_MODULES:
        module.register(api, services)
    for module_type in services.registry:  # each module type's own routes
        if module_type.routes is not None:
            module_type.routes(api, services)
    return api
