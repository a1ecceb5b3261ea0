"""GET /health requests per second: the bgbilling all-in-one server against bare twisted.web.

Starts both as processes of their own (bgbilling on SQLite in a temp dir, each on a free
port), runs ``wrk`` against each in turn, prints both rates and their ratio, stops both.
Not a test: a figure to watch as the server grows (see bench/README.md).

    python bench/health.py [--seconds 10] [--threads 2] [--connections 32]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"{url}: the server exited with {process.returncode}; see {log}")
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                if json.load(answer).get("status") == "ok":
                    return
        except OSError:
            pass
        time.sleep(0.05)
    sys.exit(f"{url}: not healthy after {timeout}s; see {log}")


def start(stack: ExitStack, name: str, argv: list[str], workdir: Path, env: dict,
          port: int) -> str:
    log = workdir / f"{name}.log"
    out = stack.enter_context(open(log, "ab"))
    process = subprocess.Popen(argv, cwd=workdir, env=env, stdout=out,
                               stderr=subprocess.STDOUT)
    stack.callback(stop, process)
    url = f"http://127.0.0.1:{port}/health"
    wait_healthy(url, process, log)
    return url


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def run_wrk(url: str, args: argparse.Namespace, script: Path | None = None,
            seconds: int | None = None) -> dict:
    """wrk against ``url`` (with a Lua ``script`` for other requests than a plain GET)."""
    extra = ["-s", str(script)] if script else []
    seconds = args.seconds if seconds is None else seconds
    done = subprocess.run(["wrk", f"-t{args.threads}", f"-c{args.connections}",
                           f"-d{seconds}s", "--latency", *extra, url],
                          capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0:
        sys.exit(f"wrk failed: {done.stderr or done.stdout}")
    out = done.stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if rate is None:
        sys.exit(f"cannot read wrk's output:\n{out}")
    latency = re.search(r"Latency\s+(\S+)", out)
    p99 = re.search(r"99%\s+(\S+)", out)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:(.*)", out)
    return {"rps": float(rate.group(1)), "latency": latency.group(1) if latency else "?",
            "p99": p99.group(1) if p99 else "?", "non_2xx": int(bad.group(1)) if bad else 0,
            "socket_errors": errors.group(1).strip() if errors else "none"}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=int, default=10, help="wrk duration per server")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--connections", type=int, default=32)
    args = p.parse_args(argv)
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (Debian package wrk)")

    with tempfile.TemporaryDirectory(prefix="bgbench-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        port = free_port()
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("BG_") or k == "BG_ADMIN_PASSWORD"}
        env.update(BG_DATABASE__URL=f"sqlite:///{workdir / 'bgbilling.sqlite3'}",
                   BG_SERVER__LISTEN=f"tcp:{port}:interface=127.0.0.1",
                   BG_ADMIN_PASSWORD="bench-admin-password")
        init = subprocess.run([str(BIN / "bgbilling"), "init"], cwd=workdir, env=env,
                              capture_output=True, text=True)
        if init.returncode != 0:
            sys.exit(f"bgbilling init failed:\n{init.stdout}{init.stderr}")
        servers = {
            "bgbilling": start(stack, "bgbilling",
                               [str(BIN / "twistd"), "-n", "--pidfile=", "bgbilling"],
                               workdir, env, port),
        }
        bare_port = free_port()
        servers["bare twisted.web"] = start(
            stack, "bare_web", [sys.executable, str(HERE / "bare_web.py"), str(bare_port)],
            workdir, env, bare_port)

        print(f"wrk -t{args.threads} -c{args.connections} -d{args.seconds}s GET /health")
        results = {}
        for name, url in servers.items():
            results[name] = result = run_wrk(url, args)
            print(f"  {name:<17} {result['rps']:>10.1f} req/s   latency avg {result['latency']}"
                  f", p99 {result['p99']}   non-2xx {result['non_2xx']}"
                  f"   socket errors: {result['socket_errors']}")
        ratio = results["bgbilling"]["rps"] / results["bare twisted.web"]["rps"]
        print(f"  bgbilling / bare = {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
