"""Payments per second and p99 latency, and GET /api/v1/contracts/{id} per second, of one
bgserver process on MariaDB, each next to bare twisted.web from the same run.

Starts a private MariaDB (Debian's mariadb-server), `bgbilling init`, one
`twistd -n bgserver`, and the two baselines of bench/bare_web.py (bare twisted.web, and one
Klein route); creates contracts and an API key through the API; then runs wrk with 32
connections: POST payments to random contracts, GET random contracts, GET the baselines'
/health, each after a warm-up run that is not counted. Prints the figures and the targets.

    python bench/money.py [--seconds 10] [--warmup 3] [--contracts 1000] [--threads 2]
                          [--connections 32] [--driver pymysql|mysqldb] [--card-seconds S]
                          [--broker local|activemq]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from health import BIN, free_port, run_wrk, start  # noqa: E402
from tests.support.services import ActiveMQ, MariaDB  # noqa: E402

LUA = """
local token = os.getenv("BG_BENCH_TOKEN")
local first = tonumber(os.getenv("BG_BENCH_FIRST"))
local count = tonumber(os.getenv("BG_BENCH_COUNT"))
local method = os.getenv("BG_BENCH_METHOD")
local headers = {["Authorization"] = "Bearer " .. token,
                 ["Content-Type"] = "application/json"}
request = function()
  local id = first + math.random(0, count - 1)
  if method == "POST" then
    return wrk.format("POST", "/api/v1/contracts/" .. id .. "/payments", headers,
                      '{"amount": "10.00", "comment": "bench"}')
  end
  return wrk.format("GET", "/api/v1/contracts/" .. id, headers)
end
"""


def call(base: str, method: str, path: str, body: dict | None = None,
         token: str | None = None) -> dict:
    request = urllib.request.Request(
        base + path, method=method, data=json.dumps(body).encode() if body else None,
        headers={"Content-Type": "application/json",
                 **({"Authorization": f"Bearer {token}"} if token else {})})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3,
                   help="seconds of each load run first and not counted (0: none)")
    p.add_argument("--contracts", type=int, default=1000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--driver", default="pymysql", choices=["pymysql", "mysqldb"],
                   help="mysqldb: the C client (pip install mysqlclient), for comparison")
    p.add_argument("--broker", default="local", choices=["local", "activemq"],
                   help="activemq: a private ActiveMQ carries bgserver's events, as in "
                        "production with separate processes")
    p.add_argument("--card-seconds", type=float, default=None,
                   help="contracts.cache_seconds of bgserver (default: its own; 0: every "
                        "GET reads the database)")
    args = p.parse_args(argv)
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (Debian package wrk)")

    with tempfile.TemporaryDirectory(prefix="bgbench-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        db = MariaDB(workdir / "mariadb")
        db.start()
        stack.callback(db.stop)
        port, bare_port = free_port(), free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("BG_")}
        env.update(BG_DATABASE__URL=db.create_database().replace("+pymysql", f"+{args.driver}"),
                   BG_SERVER__LISTEN=f"tcp:{port}:interface=127.0.0.1",
                   BG_ADMIN_PASSWORD="bench-admin-password")
        if args.broker == "activemq":
            broker = ActiveMQ(workdir / "activemq")
            broker.start()
            stack.callback(broker.stop)
            env["BG_EVENTS__BROKER"] = broker.url
        if args.card_seconds is not None:
            env["BG_CONTRACTS__CACHE_SECONDS"] = str(args.card_seconds)
        subprocess.run([str(BIN / "bgbilling"), "init"], cwd=workdir, env=env, check=True,
                       capture_output=True)
        start(stack, "bgserver", [str(BIN / "twistd"), "-n", "--pidfile=", "bgserver"],
              workdir, env, port)
        bare = start(stack, "bare_web", [sys.executable, str(HERE / "bare_web.py"),
                                         str(bare_port)], workdir, env, bare_port)
        klein_port = free_port()
        klein = start(stack, "klein_web", [sys.executable, str(HERE / "bare_web.py"),
                                           str(klein_port), "klein"], workdir, env, klein_port)
        base = f"http://127.0.0.1:{port}"
        admin = call(base, "POST", "/api/v1/auth/login",
                     {"login": "admin", "password": "bench-admin-password"})["token"]
        key = call(base, "POST", "/api/v1/api-keys", {"title": "bench", "roles": ["admin"]},
                   admin)["key"]
        ids = [call(base, "POST", "/api/v1/contracts",
                    {"title": f"Bench {n}", "mode": "postpaid"}, key)["id"]
               for n in range(args.contracts)]
        script = workdir / "bench.lua"
        script.write_text(LUA)
        os.environ.update(BG_BENCH_TOKEN=key, BG_BENCH_FIRST=str(min(ids)),
                          BG_BENCH_COUNT=str(len(ids)))
        pause = os.environ.get("BG_BENCH_PAUSE")  # a file: wait while it exists, to look
        if pause:                                   # at or profile bgserver meanwhile
            print(f"bgserver {base} key {key} ids {min(ids)}..{max(ids)}", flush=True)
            while os.path.exists(pause):
                time.sleep(0.5)
        cards = "default" if args.card_seconds is None else f"{args.card_seconds:g} s"
        print(f"one bgserver on MariaDB ({args.driver}), events: {args.broker}, "
              f"{len(ids)} contracts, wrk -t{args.threads} "
              f"-c{args.connections} -d{args.seconds}s after {args.warmup}s of warm-up, "
              f"cards remembered: {cards}")
        results = {}
        for name, method in (("POST payments", "POST"), ("GET contract", "GET")):
            os.environ["BG_BENCH_METHOD"] = method
            if args.warmup:
                run_wrk(f"{base}/", args, script=script, seconds=args.warmup)
            results[name] = run_wrk(f"{base}/", args, script=script)
        for name, url in (("bare twisted.web", bare), ("one Klein route", klein)):
            if args.warmup:
                run_wrk(url, args, seconds=args.warmup)
            results[name] = run_wrk(url, args)
        for name, r in results.items():
            print(f"  {name:<17} {r['rps']:>9.1f} req/s   latency avg {r['latency']}, "
                  f"p99 {r['p99']}   non-2xx {r['non_2xx']}   socket errors: "
                  f"{r['socket_errors']}")
        bare_rps = results["bare twisted.web"]["rps"]
        print(f"  payments / bare = {results['POST payments']['rps'] / bare_rps:.2f}   "
              f"GET contract / bare = {results['GET contract']['rps'] / bare_rps:.2f}   "
              f"one Klein route / bare = {results['one Klein route']['rps'] / bare_rps:.2f}")
        print("  targets: payments >= 1000/s with p99 < 50 ms; GET >= 1/3 of bare")
    return 0


if __name__ == "__main__":
    sys.exit(main())
