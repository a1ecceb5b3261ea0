"""The balance check: every contract's balance and month rows worked out again from the
ledger (payments not deleted, charges, usage) and compared with what is stored.

It reports, never corrects: a difference means a bug or a hand-made change in the
database, and someone has to find out which before money is moved. Contracts are read in
batches, each in one transaction, so memory stays flat however many there are.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Awaitable, Callable

from twisted.logger import Logger

from bgserver.storage import balance_check as store

log = Logger()
ZERO = Decimal("0.00")
BATCH = 500
#: Differences listed in a run's result; the count says how many there were in all.
LISTED = 1000
COLUMNS = ("incoming", "payments", "charges", "usage", "outgoing")


def differences(contract_id: int, stored_balance: Decimal, rows: list[dict[str, Any]],
                sums: dict[tuple[int, date, str], Decimal]) -> list[dict[str, Any]]:
    """One contract: each month row against the ledger's sums, each incoming against the
    outgoing before it, and the current balance against the last outgoing."""
    stored = {row["month"]: row for row in rows}
    months = sorted(set(stored) | {month for (c, month, _) in sums if c == contract_id})
    found = []
    carried = ZERO
    for month in months:
        expected = {"incoming": carried}
        for column in ("payments", "charges", "usage"):
            expected[column] = sums.get((contract_id, month, column), ZERO)
        expected["outgoing"] = (carried + expected["payments"] - expected["charges"]
                                - expected["usage"])
        row = stored.get(month)
        if row is None:
            found.append({"contract_id": contract_id, "month": f"{month:%Y-%m}",
                          "field": "row", "stored": None, "expected": expected})
        else:
            found.extend({"contract_id": contract_id, "month": f"{month:%Y-%m}",
                          "field": column, "stored": row[column], "expected": expected[column]}
                         for column in COLUMNS if row[column] != expected[column])
        carried = expected["outgoing"]
    if stored_balance != carried:
        found.append({"contract_id": contract_id, "month": None, "field": "balance",
                      "stored": stored_balance, "expected": carried})
    return found


async def check_all(database: Any, progress: Callable[[int, int], Awaitable[None]],
                    batch: int = BATCH) -> dict[str, Any]:
    total = await database.run("balance_check_count", store.contract_count, readonly=True)
    await progress(0, total)
    checked = found = 0
    contracts_differing = 0
    listed: list[dict[str, Any]] = []
    after_id = 0
    while True:
        read = await database.run("balance_check_batch", store.read_batch, after_id, batch,
                                  readonly=True)
        if not read["contracts"]:
            break
        rows_of: dict[int, list[dict[str, Any]]] = {}
        for row in read["rows"]:
            rows_of.setdefault(row["contract_id"], []).append(row)
        for contract_id, stored_balance in read["contracts"].items():
            diffs = differences(contract_id, stored_balance, rows_of.get(contract_id, []),
                                read["sums"])
            if diffs:
                contracts_differing += 1
                found += len(diffs)
                for diff in diffs:
                    log.warn("balance check: contract {contract_id} {month} {field}: stored "
                             "{stored}, the ledger makes it {expected}", **diff)
                listed.extend(diffs[:max(0, LISTED - len(listed))])
        checked += len(read["contracts"])
        after_id = max(read["contracts"])
        await progress(checked, max(total, checked))
    return {"contracts": checked, "contracts_differing": contracts_differing,
            "differences": found, "listed": listed}
