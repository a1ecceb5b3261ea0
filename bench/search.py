"""Contract search on 100,000 contracts: GET /api/v1/contracts?q=... of one bgserver on
MariaDB, milliseconds per request (median and worst of the repeats) for a number prefix,
a title prefix, a parameter value prefix, no match, and paging without q.

The contracts and their parameter values are written straight into the database (bulk
inserts, not through the API: that would take an hour); the searches go through the API.

    python bench/search.py [--contracts 100000] [--repeats 20]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from contextlib import ExitStack
from datetime import date, datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from sqlalchemy import create_engine, insert  # noqa: E402

from health import BIN, free_port, start  # noqa: E402
from bgserver.storage.schema import contract, contract_param, param_definition  # noqa: E402
from tests.support.services import MariaDB  # noqa: E402

STREETS = ("Lenina", "Mira", "Sadovaya", "Tverskaya", "Pushkina", "Gagarina", "Chekhova")


def fill(url: str, count: int) -> None:
    engine = create_engine(url)
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        param_id = conn.execute(insert(param_definition).values(
            key="street", title="Street", type="text", created_at=now)).inserted_primary_key[0]
        for start_at in range(0, count, 5000):
            ids = range(start_at + 1, min(start_at + 5000, count) + 1)
            conn.execute(insert(contract), [{
                "id": n, "number": f"A-26-{n:06d}", "title": f"Subscriber{n} {STREETS[n % 7]}",
                "date_from": date(2026, 1, 1), "comment": "", "created_at": now,
                "updated_at": now} for n in ids])
            conn.execute(insert(contract_param), [{
                "contract_id": n, "param_id": param_id, "value": f"{STREETS[n % 7]} {n % 300}",
                "search": f"{STREETS[n % 7]} {n % 300}".lower(), "updated_at": now}
                for n in ids])


def timed(base: str, token: str, query: str, repeats: int) -> tuple[float, float, int]:
    times, found = [], 0
    for _ in range(repeats):
        request = urllib.request.Request(f"{base}/api/v1/contracts?{query}",
                                         headers={"Authorization": f"Bearer {token}"})
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=60) as answer:
            found = len(json.load(answer)["items"])
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times), found


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--contracts", type=int, default=100_000)
    p.add_argument("--repeats", type=int, default=20)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bgbench-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        db = MariaDB(workdir / "mariadb")
        db.start()
        stack.callback(db.stop)
        port = free_port()
        url = db.create_database()
        env = {k: v for k, v in os.environ.items() if not k.startswith("BG_")}
        env.update(BG_DATABASE__URL=url, BG_SERVER__LISTEN=f"tcp:{port}:interface=127.0.0.1",
                   BG_ADMIN_PASSWORD="bench-admin-password")
        subprocess.run([str(BIN / "bgbilling"), "init"], cwd=workdir, env=env, check=True,
                       capture_output=True)
        started = time.perf_counter()
        fill(url, args.contracts)
        print(f"{args.contracts} contracts with a street parameter written in "
              f"{time.perf_counter() - started:.0f}s")
        start(stack, "bgserver", [str(BIN / "twistd"), "-n", "--pidfile=", "bgserver"],
              workdir, env, port)
        base = f"http://127.0.0.1:{port}"
        login = urllib.request.Request(
            base + "/api/v1/auth/login", method="POST",
            data=json.dumps({"login": "admin", "password": "bench-admin-password"}).encode())
        with urllib.request.urlopen(login) as answer:
            token = json.load(answer)["token"]
        print(f"GET /api/v1/contracts (page of 50), {args.repeats} times each:")
        for label, query in (("number prefix", "q=A-26-0777"),
                             ("title prefix", "q=Subscriber4242"),
                             ("parameter prefix", "q=" + urllib.parse.quote("Tverskaya 12")),
                             ("no match", "q=nobody"),
                             ("no q, deep page", f"cursor={args.contracts - 100}")):
            median, worst, found = timed(base, token, query, args.repeats)
            print(f"  {label:<17} median {median:7.1f} ms   worst {worst:7.1f} ms   "
                  f"{found} found")
    return 0


if __name__ == "__main__":
    sys.exit(main())
