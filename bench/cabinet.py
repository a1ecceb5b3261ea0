"""The cabinet's overview page with 32 subscribers signed in at once, on MariaDB: pages per
second and p99, next to bare twisted.web from the same run.

Starts a private MariaDB (Debian's mariadb-server), `bgbilling init`, one
`twistd -n bgserver` and bench/bare_web.py; makes contracts with cabinet passwords, a
payment and charges each, and signs each subscriber in through the login form; then runs
wrk with 32 connections on GET /cabinet/ (each request with one of the sessions' cookies,
so every page reads the session, the card, the month and its charts from the database),
then on the bare server's /health, each after a warm-up that is not counted.

    python bench/cabinet.py [--seconds 10] [--warmup 3] [--subscribers 32] [--threads 2]
                            [--connections 32]
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from contextlib import ExitStack
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from health import BIN, free_port, run_wrk, start  # noqa: E402
from money import call  # noqa: E402
from tests.support.services import MariaDB  # noqa: E402

LUA = """
local cookies = {}
for cookie in string.gmatch(os.getenv("BG_BENCH_COOKIES"), "[^ ]+") do
  table.insert(cookies, cookie)
end
request = function()
  local cookie = cookies[math.random(1, #cookies)]
  return wrk.format("GET", "/cabinet/", {["Cookie"] = "bgcab_session=" .. cookie,
                                          ["Accept-Language"] = "ru"})
end
"""


def sign_in(base: str, number: str, password: str) -> str:
    """Through the login form, as a browser does: -> the session cookie's value."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = opener.open(base + "/cabinet/login", timeout=30).read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    opener.open(base + "/cabinet/login", data=urllib.parse.urlencode(
        {"number": number, "password": password, "csrf_token": token}).encode(), timeout=30)
    return next(c.value for c in jar if c.name == "bgcab_session")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--subscribers", type=int, default=32)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--connections", type=int, default=32)
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
        env.update(BG_DATABASE__URL=db.create_database(),
                   BG_SERVER__LISTEN=f"tcp:{port}:interface=127.0.0.1",
                   BG_ADMIN_PASSWORD="bench-admin-password")
        subprocess.run([str(BIN / "bgbilling"), "init"], cwd=workdir, env=env, check=True,
                       capture_output=True)
        start(stack, "bgserver", [str(BIN / "twistd"), "-n", "--pidfile=", "bgserver"],
              workdir, env, port)
        bare = start(stack, "bare_web", [sys.executable, str(HERE / "bare_web.py"),
                                         str(bare_port)], workdir, env, bare_port)
        base = f"http://127.0.0.1:{port}"
        admin = call(base, "POST", "/api/v1/auth/login",
                     {"login": "admin", "password": "bench-admin-password"})["token"]
        cookies = []
        for n in range(args.subscribers):
            contract = call(base, "POST", "/api/v1/contracts", {
                "title": f"Subscriber {n}", "cabinet_password": f"bench-{n}-password"}, admin)
            path = f"/api/v1/contracts/{contract['id']}"
            call(base, "POST", f"{path}/payments", {"amount": "1000.00"}, admin)
            for amount in ("12.50", "7.25"):
                call(base, "POST", f"{path}/charges", {"amount": amount}, admin)
            cookies.append(sign_in(base, contract["number"], f"bench-{n}-password"))
        for cookie in cookies:  # each page must be the overview, not the way to the login
            request = urllib.request.Request(base + "/cabinet/",
                                             headers={"Cookie": f"bgcab_session={cookie}"})
            with urllib.request.urlopen(request, timeout=30) as page:
                assert page.url.endswith("/cabinet/") and b'id="balance"' in page.read()
        script = workdir / "cabinet.lua"
        script.write_text(LUA)
        os.environ["BG_BENCH_COOKIES"] = " ".join(cookies)
        print(f"one bgserver on MariaDB, {len(cookies)} subscribers signed in, wrk "
              f"-t{args.threads} -c{args.connections} -d{args.seconds}s after "
              f"{args.warmup}s of warm-up")
        results = {}
        for name, url, lua in (("GET /cabinet/", f"{base}/", script),
                               ("bare twisted.web", bare, None)):
            if args.warmup:
                run_wrk(url, args, script=lua, seconds=args.warmup)
            results[name] = run_wrk(url, args, script=lua)
        for name, r in results.items():
            print(f"  {name:<17} {r['rps']:>9.1f} req/s   latency avg {r['latency']}, "
                  f"p99 {r['p99']}   non-2xx {r['non_2xx']}   socket errors: "
                  f"{r['socket_errors']}")
        ratio = results["GET /cabinet/"]["rps"] / results["bare twisted.web"]["rps"]
        print(f"  overview / bare = {ratio:.2f}")
        print("  targets: p99 < 100 ms and at least 1/5 of bare")
    return 0


if __name__ == "__main__":
    sys.exit(main())
