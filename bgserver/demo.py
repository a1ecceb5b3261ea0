"""``bgbilling demo``: enough data to look around — groups, roles, operators, contracts."""

from __future__ import annotations

import random

from bgserver.billing.access import system_caller
from bgserver.billing.contracts import ContractService
from bgserver.billing.passwords import generate_password
from bgserver.storage import contracts as contract_store
from bgshared.api.models import ContractCreate, ContractGroupCreate, RoleCreate, UserCreate
from bgshared.api.permissions import READ_ONLY

DEMO = system_caller("demo")
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
    rng = random.Random(7)
    for n in range(60):
        company = n % 10 == 9
        title = (f"OOO {rng.choice(NAMES)} and Partners" if company else
                 f"{rng.choice(NAMES)} {rng.choice('AIMNOPSV')}. {rng.choice('AIMNOPSV')}., "
                 f"{rng.choice(STREETS)} st. {rng.randint(1, 120)}")
        await contracts.create(DEMO, ContractCreate(
            title=title, person_type="company" if company else "person",
            mode="postpaid" if company else "prepaid",
            groups=[groups[2 if company else n % 2]["id"]]))
    print(f"demo data: {len(GROUPS)} contract groups, roles operator and readonly, 60 contracts")
    return 0
