"""The bgserver HTTP application: the services the routes call, and every route module."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bgserver.api import (accounts, audit, auth, contracts, loader, modules, money, params,
                          system, tariffs, users)
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
from bgserver.loader.admin import LoaderAdmin
from bgserver.modules import ModuleRegistry

ROUTE_MODULES = (system, auth, users, contracts, params, money, modules, tariffs, audit,
                 accounts, loader)


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
    accounts: AccountService = field(default=None)  # type: ignore[assignment]
    loader: LoaderAdmin = field(default=None)  # type: ignore[assignment]
    records: RecordService = field(default=None)  # type: ignore[assignment]

    @classmethod
    def build(cls, database: Any, bus: Any, clock: Any, settings: Settings,
              registry: ModuleRegistry) -> "ApiServices":
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
                   AccountService(database, clock, registry),
                   LoaderAdmin(database, clock, registry, settings.loader.spool),
                   RecordService(database, clock))


def build_api(services: ApiServices) -> Api:
    api = Api(services.auth.authenticate)
    for module in ROUTE_MODULES:
        module.register(api, services)
    for module_type in services.registry:  # each module type's own routes
        if module_type.routes is not None:
            module_type.routes(api, services)
    return api
