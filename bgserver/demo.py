"""``bgbilling demo``: enough data to look around — groups, roles, operators, module
instances and tariff plans, contracts on them with payments and orders."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from bgserver.billing.access import system_caller
from bgserver.billing.contracts import ContractService
from bgserver.billing.modules import ModuleService
from bgserver.billing.money import MoneyService
from bgserver.billing.params import ParamService
from bgserver.billing.passwords import generate_password
from bgserver.billing.tariffs import TariffService
from bgserver.modules.rscm.orders import OrderService
from bgserver.scheduler.control import TaskService
from bgserver.scheduler.service import SchedulerService
from bgserver.scheduler.tasks import TaskContext, TaskTypes
from bgserver.storage import contracts as contract_store
from bgshared.api.scheduler import SchedulerRunCreate
from bgshared.api.models import (ContractCreate, ContractGroupCreate, ContractTariffCreate,
                                  ModuleCreate, MovementCreate, OrderCreate,
                                  ParamDefinitionCreate, RoleCreate, ServiceCreate,
                                  TariffCreate, UserCreate)
from bgshared.api.permissions import READ_ONLY

DEMO = system_caller("demo")
CONTRACTS = 300
PARAMS = (
    ("address", "Connection address", "address", {"cabinet_read": True}),
    ("phone", "Contact phone", "phone", {"cabinet_read": True, "cabinet_write": True,
                                         "history": True}),
    ("email", "E-mail for invoices", "email", {"cabinet_read": True, "cabinet_write": True,
                                               "history": True}),
    ("connection", "Connection type", "list", {"options": ["fiber", "copper", "radio"]}),
    ("passport", "Passport", "text", {"history": True}),
)
GROUPS = ("Moscow", "Saint Petersburg", "Corporate")
STREETS = ("Lenina", "Mira", "Sadovaya", "Tverskaya", "Pushkina", "Gagarina")
NAMES = ("Ivanov", "Petrov", "Sidorov", "Smirnov", "Kuznetsov", "Popov", "Vasiliev",
         "Sokolov", "Mikhailov", "Novikov", "Fedorov", "Morozov")


class Catalogue:
    """The demo's module instances, services and tariff plans."""

    def __init__(self, database, clock, registry, groups):
        self.modules = ModuleService(database, clock, registry)
        self.tariffs = TariffService(database, clock, registry)
        self.groups = groups

    async def build(self) -> None:
        self.fees = await self.modules.create(DEMO, ModuleCreate(type="npay", title="Fees"))
        self.subscription = await self.modules.create_service(
            DEMO, self.fees["id"], ServiceCreate(title="Subscription", unit="month"))
        self.shop = await self.modules.create(DEMO, ModuleCreate(type="rscm",
                                                                 title="Services"))
        self.visit = await self.modules.create_service(
            DEMO, self.shop["id"], ServiceCreate(title="Technician visit", unit="visit"))
        self.router = await self.modules.create_service(
            DEMO, self.shop["id"], ServiceCreate(title="Wi-Fi router", unit="piece"))
        homes = [self.groups[0]["id"], self.groups[1]["id"]]
        self.plans = {
            name: await self.tariffs.create(DEMO, TariffCreate(
                title=title, cabinet_title=cabinet, groups=groups, modules={
                    self.fees["id"]: {"fees": [{"service_id": self.subscription["id"],
                                                "amount": amount, "mode": mode}]},
                    self.shop["id"]: {"prices": [
                        {"service_id": self.visit["id"], "price": "500.00", "cabinet": True},
                        {"service_id": self.router["id"], "price": "3500.00"}]}}))
            for name, title, cabinet, amount, mode, groups in (
                ("home", "Home 350", "Home", "350.00", "daily", homes),
                ("plus", "Home Plus 750", "Home Plus", "750.00", "daily", homes),
                ("office", "Office 2500", "Office", "2500.00", "advance",
                 [self.groups[2]["id"]]))}

    async def assign(self, contract_id: int, plan: str, day: date) -> None:
        await self.tariffs.assign(DEMO, contract_id, ContractTariffCreate(
            tariff_id=self.plans[plan]["id"], date_from=day))


async def populate(database, clock, users, settings, registry) -> int:
    contracts = ContractService(database, clock, settings.contracts)
    existing = await database.run("demo_groups", contract_store.list_groups, readonly=True)
    if any(g["title"] == GROUPS[0] for g in existing):
        print("demo data present already")
        return 0
    groups = [await contracts.create_group(DEMO, ContractGroupCreate(title=t)) for t in GROUPS]
    await users.create_role(DEMO, RoleCreate(name="operator", permissions=[
        "contract.read", "contract.write", "payment.create", "charge.create", "report.read"]))
    await users.create_role(DEMO, RoleCreate(name="readonly", permissions=sorted(READ_ONLY)))
    password = generate_password()
    await users.create_user(DEMO, UserCreate(
        login="operator", name="Demo Operator", password=password, roles=["operator"],
        groups=[groups[0]["id"]]))
    print(f"demo operator 'operator' (group {GROUPS[0]} only); password (shown once): "
          f"{password}")
    money = MoneyService(database, clock)
    params = ParamService(database, clock)
    for key, title, kind, extra in PARAMS:
        await params.create_definition(DEMO, ParamDefinitionCreate(
            key=key, title=title, type=kind, **extra))
    catalogue = Catalogue(database, clock, registry, groups)
    await catalogue.build()
    orders = OrderService(database, clock)
    rng = random.Random(7)
    today = clock.today()
    first = (today.replace(day=1) - timedelta(days=62)).replace(day=1)
    middle = (first + timedelta(days=31)).replace(day=15)
    for n in range(CONTRACTS):
        company = n % 10 == 9
        title = (f"OOO {rng.choice(NAMES)} and Partners" if company else
                 f"{rng.choice(NAMES)} {rng.choice('AIMNOPSV')}. {rng.choice('AIMNOPSV')}., "
                 f"{rng.choice(STREETS)} st. {rng.randint(1, 120)}")
        created = await contracts.create(DEMO, ContractCreate(
            title=title, person_type="company" if company else "person",
            mode="postpaid" if company else "prepaid", date_from=first,
            groups=[groups[2 if company else n % 2]["id"]]))
        street, house = rng.choice(STREETS), rng.randint(1, 120)
        await params.set_value(DEMO, created["id"], "address", {
            "city": "Moscow", "street": f"{street} st.", "house": str(house),
            "flat": str(rng.randint(1, 200))})
        await params.set_value(DEMO, created["id"], "phone",
                               f"+7 495 {rng.randint(100, 999)}-{rng.randint(10, 99)}-"
                               f"{rng.randint(10, 99)}")
        await params.set_value(DEMO, created["id"], "connection",
                               rng.choice(("fiber", "fiber", "copper", "radio")))
        await catalogue.assign(created["id"], "office" if company else "home", first)
        if not company and n % 5 == 0 and middle <= today:  # moved up mid-month
            await catalogue.assign(created["id"], "plus", middle)
        await _payments(money, rng, created["id"], first, today, company)
        if n % 25 == 1:
            await orders.order(DEMO, created["id"], OrderCreate(
                module_id=catalogue.shop["id"], service_id=catalogue.visit["id"],
                date=first + timedelta(days=3), comment="connection"))
    charged = await _fees_by_the_scheduler(database, clock, settings, registry,
                                           catalogue.fees["id"], first, today)
    print(f"demo data: {len(GROUPS)} contract groups, roles operator and readonly, "
          f"{len(PARAMS)} parameters, module instances Fees and Services, 3 tariff plans, "
          f"{CONTRACTS} contracts with three months of payments and {charged} of fees "
          "charged by the scheduler")
    return 0


async def _fees_by_the_scheduler(database, clock, settings, registry, module_id: int,
                                 first: date, today: date) -> str:
    """The Fees instance's npay.charge task run by hand from ``first`` to today, taken and
    run by the scheduler as it would be in bgscheduler."""
    from bgserver.api.app import task_types  # noqa: PLC0415 - the build's task types
    types = TaskTypes(task_types(registry))
    tasks = TaskService(database, clock, types)
    task = next(t for t in (await tasks.list_tasks())["items"]
                if t["type"] == "npay.charge" and t["module_id"] == module_id)
    queued = await tasks.queue_run(DEMO, task["id"], SchedulerRunCreate(
        params={"from": first.isoformat(), "to": today.isoformat()}))
    scheduler = SchedulerService(TaskContext(database, clock, settings), types, "demo")
    while (run := await tasks.get_run(queued["run_id"]))["state"] in ("queued", "running"):
        await scheduler.wake()
        await scheduler.idle()
    await scheduler.stopService()
    if run["state"] != "done":
        raise RuntimeError(f"the demo's fee run failed: {run['error']}")
    return run["result"]["charged"]


async def _payments(money, rng, contract_id, first: date, today: date,
                    company: bool) -> None:
    """Each month's fee paid, mostly, in the first days of the month."""
    fee = Decimal("2500.00" if company else "750.00")
    month = first
    while month <= today:
        paid_on = month + timedelta(days=rng.randint(0, 9))
        if paid_on <= today and rng.random() < 0.9:
            await money.post(DEMO, contract_id, "payment", MovementCreate(
                amount=fee + Decimal(rng.choice((0, 0, 100, 500))), date=paid_on,
                type_id=rng.choice((1, 2, 3)), comment="demo"))
        month = (month + timedelta(days=32)).replace(day=1)
