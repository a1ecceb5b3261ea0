"""The bgserver HTTP application: the services the routes call, and every route module."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bgserver.api import audit, auth, contracts, money, params, scheduler, system, users
from bgserver.api.routing import Api
from bgserver.billing.audit import AuditService
from bgserver.billing.auth import AuthService
from bgserver.billing.contracts import ContractService
from bgserver.billing.money import MoneyService
from bgserver.billing.params import ParamService
from bgserver.billing.users import UserService
from bgserver.config import Settings
from bgserver.scheduler.control import ModuleChecker, TaskService
from bgserver.scheduler.tasks import TaskType, TaskTypes, kernel_task_types

ROUTE_MODULES = (system, auth, users, contracts, params, money, audit, scheduler)


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
    scheduler: TaskService

    @classmethod
    def build(cls, database: Any, bus: Any, clock: Any, settings: Settings,
              task_types: list[TaskType] | None = None,
              module_checker: ModuleChecker | None = None) -> "ApiServices":
        """``task_types``: every scheduler task type of this build (default: the
        kernel's); ``module_checker`` checks a task's module instance."""
        auth = AuthService(database, clock, settings.auth)
        # rights taken away on any bgserver: every one forgets the callers it remembers
        bus.subscribe("access.revoked", lambda event: auth.cache.clear())
        return cls(database, bus, clock, settings, auth,
                   UserService(database, clock, on_revoke=auth.cache.clear),
                   ContractService(database, clock, settings.contracts, bus),
                   ParamService(database, clock),
                   MoneyService(database, clock),
                   AuditService(database),
                   TaskService(database, clock, TaskTypes(
                       kernel_task_types() if task_types is None else task_types),
                       module_checker))


def build_api(services: ApiServices) -> Api:
    api = Api(services.auth.authenticate)
    for module in ROUTE_MODULES:
        module.register(api, services)
    return api
