"""Contract search on 100,000 contracts: GET /api/v1/contracts?q=... of one bgserver on
MariaDB and on SQLite, milliseconds per request (median and worst of the repeats) as the
client saw it and as the server spent it (its access log's duration), for a number
prefix, a word of the title, Cyrillic words, a parameter value, two words, one letter
(most contracts match), no match, and paging without q.

The contracts, their parameter values and their search words are written straight into
the database (bulk inserts, not through the API: that would take an hour); the searches go
through the API.

    python bench/search.py [--contracts 100000] [--repeats 20] [--database both|mariadb|sqlite]
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
from bgserver.storage.words import insert_words, source_of_param  # noqa: E402
from tests.support.services import MariaDB  # noqa: E402

STREETS = ("Lenina", "Mira", "Sadovaya", "Tverskaya", "Pushkina", "Gagarina", "Chekhova")
NAMES = ("Иван", "Пётр", "Анна", "Ольга", "Сергей", "Мария", "Дмитрий", "Елена", "Павел",
         "Наталья", "Олег")
SURNAMES = ("Петров", "Иванов", "Смирнов", "Кузнецов", "Попов", "Соколов", "Лебедев",
            "Козлов", "Новиков", "Морозов", "Волков", "Зайцев", "Павлов")


def title(n: int) -> str:
    """Every third a Russian name (one in 143 the same surname and name), the rest Latin."""
    if n % 3 == 0:
        return f"{SURNAMES[n % 13]} {NAMES[n % 11]} {n}"
    return f"Subscriber{n} {STREETS[n % 7]}"


def fill(url: str, count: int) -> None:
    engine = create_engine(url)
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        param_id = conn.execute(insert(param_definition).values(
            key="street", title="Street", type="text", created_at=now)).inserted_primary_key[0]
        for start_at in range(0, count, 5000):
            ids = range(start_at + 1, min(start_at + 5000, count) + 1)
            conn.execute(insert(contract), [{
                "id": n, "number": f"A-26-{n:06d}", "title": title(n),
                "date_from": date(2026, 1, 1), "comment": "", "created_at": now,
                "updated_at": now} for n in ids])
            conn.execute(insert(contract_param), [{
                "contract_id": n, "param_id": param_id, "value": f"{STREETS[n % 7]} {n % 300}",
                "search": f"{STREETS[n % 7]} {n % 300}".lower(), "updated_at": now}
                for n in ids])
            insert_words(conn, [(n, source, text) for n in ids for source, text in (
                ("number", f"A-26-{n:06d}"), ("title", title(n)),
                (source_of_param(param_id), f"{STREETS[n % 7]} {n % 300}"))])


def timed(base: str, token: str, query: str, repeats: int) -> tuple[list[float], int]:
    times, found = [], 0
    for _ in range(repeats):
        request = urllib.request.Request(f"{base}/api/v1/contracts?{query}",
                                         headers={"Authorization": f"Bearer {token}"})
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=60) as answer:
            found = len(json.load(answer)["items"])
        times.append((time.perf_counter() - started) * 1000)
    return times, found


def server_times(access_log: Path, before: int, count: int) -> list[float]:
    """The durations of the searches after the first ``before`` in bgserver's access log
    (written in batches a moment later)."""
    deadline = time.monotonic() + 5
    while True:
        lines = [json.loads(line) for line in access_log.read_text().splitlines()]
        searches = [line["duration_ms"] for line in lines if line["path"] == "/api/v1/contracts"]
        if len(searches) >= before + count or time.monotonic() > deadline:
            return searches[before:before + count]
        time.sleep(0.1)


def queries(count: int) -> list[tuple[str, str]]:
    n = count * 7 // 9
    return [("number prefix", f"A-26-{n:06d}"[:-2]), ("number part", f"{n:06d}"[:-1]),
            ("title word", f"Subscriber{n + 1 if (n + 1) % 3 else n + 2}"), ("Cyrillic word", "ива"),
            ("two Cyrillic", "петров ива"), ("parameter words", "Tverskaya 12"),
            ("one letter", "s"), ("no match", "nobody")]


def run(stack: ExitStack, workdir: Path, kind: str, args) -> None:
    if kind == "mariadb":
        db = MariaDB(workdir / "mariadb")
        db.start()
        stack.callback(db.stop)
        url = db.create_database()
    else:
        url = f"sqlite:///{workdir / 'bgbilling.sqlite3'}"
    port = free_port()
    access_log = workdir / f"access-{kind}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BG_")}
    env.update(BG_DATABASE__URL=url, BG_SERVER__LISTEN=f"tcp:{port}:interface=127.0.0.1",
               BG_ADMIN_PASSWORD="bench-admin-password", BG_SERVER__ACCESS_LOG=str(access_log))
    subprocess.run([str(BIN / "bgbilling"), "init"], cwd=workdir, env=env, check=True,
                   capture_output=True)
    started = time.perf_counter()
    fill(url, args.contracts)
    print(f"{kind}: {args.contracts} contracts with a street parameter and their words "
          f"written in {time.perf_counter() - started:.0f}s")
    start(stack, f"bgserver-{kind}", [str(BIN / "twistd"), "-n", "--pidfile=", "bgserver"],
          workdir, env, port)
    base = f"http://127.0.0.1:{port}"
    login = urllib.request.Request(
        base + "/api/v1/auth/login", method="POST",
        data=json.dumps({"login": "admin", "password": "bench-admin-password"}).encode())
    with urllib.request.urlopen(login) as answer:
        token = json.load(answer)["token"]
    print(f"  GET /api/v1/contracts (page of 50), {args.repeats} times each, "
          f"milliseconds (client / server):")
    done = 0
    for label, query in [(label, "q=" + urllib.parse.quote(q))
                         for label, q in queries(args.contracts)] + [
            ("no q, deep page", f"cursor={args.contracts - 100}")]:
        times, found = timed(base, token, query, args.repeats)
        spent = server_times(access_log, done, args.repeats)
        done += args.repeats
        print(f"    {label:<16} median {statistics.median(times):6.1f} / "
              f"{statistics.median(spent):6.1f}   worst {max(times):6.1f} / "
              f"{max(spent):6.1f}   {found} found   ({urllib.parse.unquote(query)})")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--contracts", type=int, default=100_000)
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--database", default="both", choices=["both", "mariadb", "sqlite"])
    args = p.parse_args(argv)
    kinds = ["mariadb", "sqlite"] if args.database == "both" else [args.database]
    for kind in kinds:
        with tempfile.TemporaryDirectory(prefix="bgbench-") as tmp, ExitStack() as stack:
            run(stack, Path(tmp), kind, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
