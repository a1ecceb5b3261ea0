"""``bgbilling demo``: enough data to look around — groups, roles, operators, contracts."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from bgserver.billing.access import system_caller
from bgserver.billing.contracts import ContractService
from bgserver.billing.money import MoneyService
from bgserver.billing.params import ParamService
from bgserver.billing.passwords import generate_password
from bgserver.storage import contracts as contract_store
from bgshared.api.models import (ContractCreate, ContractGroupCreate, MovementCreate,
                                  ParamDefinitionCreate, RoleCreate, UserCreate)
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


async def populate(database, clock, users, settings) -> int:
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
    rng = random.Random(7)
    today = clock.today()
    first = (today.replace(day=1) - timedelta(days=62)).replace(day=1)
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
        await _money_history(money, rng, created["id"], first, today, company)
    print(f"demo data: {len(GROUPS)} contract groups, roles operator and readonly, "
          f"{len(PARAMS)} parameters, {CONTRACTS} contracts with three months of payments "
          "and charges")
    return 0


async def _money_history(money, rng, contract_id, first: date, today: date,
                         company: bool) -> None:
    """A monthly fee charged on the 1st and paid, mostly, a few days later."""
    fee = Decimal(rng.choice(("350.00", "500.00", "750.00", "2500.00" if company else "990.00")))
    month = first
    while month <= today:
        await money.post(DEMO, contract_id, "charge",
                         MovementCreate(amount=fee, date=month, comment="monthly fee"))
        paid_on = month + timedelta(days=rng.randint(0, 9))
        if paid_on <= today and rng.random() < 0.9:
            await money.post(DEMO, contract_id, "payment", MovementCreate(
                amount=fee + Decimal(rng.choice((0, 0, 100, 500))), date=paid_on,
                type_id=rng.choice((1, 2, 3)), comment="demo"))
        month = (month + timedelta(days=32)).replace(day=1)
