"""Payments per second of one bgserver on MariaDB with no open event streams and with 200
(GET /api/v1/events), each stream seeing every event (the worst case: an operator without
group limits), read and counted by a thread of this program.

Starts a private MariaDB, `bgbilling init`, one `twistd -n bgserver`; creates contracts and
an API key through the API (bench/money.py's helpers); runs wrk's payments (POST to random
contracts) for --seconds after --warmup, first with no stream, then with --streams open.
Target: the streams cost the payment rate less than a tenth.

    python bench/events.py [--seconds 10] [--warmup 3] [--contracts 1000] [--streams 200]
"""

from __future__ import annotations

import argparse
import os
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from health import BIN, free_port, run_wrk, start  # noqa: E402
from money import LUA, call  # noqa: E402
from tests.support.services import MariaDB  # noqa: E402


class Streams:
    """``count`` open event streams on plain sockets, read by one thread: bytes and events."""

    def __init__(self, port: int, token: str, count: int):
        self.selector = selectors.DefaultSelector()
        self.sockets = []
        self.bytes = self.events = self.pings = 0
        self.running = True
        for _ in range(count):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(f"GET /api/v1/events HTTP/1.1\r\nHost: bench\r\n"
                      f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
                      .encode())
            s.setblocking(False)
            self.selector.register(s, selectors.EVENT_READ)
            self.sockets.append(s)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        while self.running:
            for key, _ in self.selector.select(0.5):
                try:
                    data = key.fileobj.recv(1 << 20)
                except BlockingIOError:
                    continue
                self.bytes += len(data)
                self.events += data.count(b"\nevent: ")  # a frame split in two may be missed
                self.pings += data.count(b": ping")

    def counts(self) -> tuple[int, int]:
        return self.events, self.bytes

    def close(self) -> None:
        self.running = False
        self.thread.join(5)
        for s in self.sockets:
            s.close()


def cpu_seconds(workdir: Path) -> float:
    """User and system CPU time of the bgserver process running in ``workdir``."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.readlink(f"/proc/{pid}/cwd") != str(workdir) or \
                    b"bgserver" not in Path(f"/proc/{pid}/cmdline").read_bytes():
                continue
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return float("nan")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--contracts", type=int, default=1000)
    p.add_argument("--streams", type=int, default=200)
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
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("BG_")}
        env.update(BG_DATABASE__URL=db.create_database(),
                   BG_SERVER__LISTEN=f"tcp:{port}:interface=127.0.0.1",
                   BG_SERVER__ACCESS_LOG=str(workdir / "access.log"),
                   BG_ADMIN_PASSWORD="bench-admin-password")
        subprocess.run([str(BIN / "bgbilling"), "init"], cwd=workdir, env=env, check=True,
                       capture_output=True)
        start(stack, "bgserver", [str(BIN / "twistd"), "-n", "--pidfile=", "bgserver"],
              workdir, env, port)
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
                          BG_BENCH_COUNT=str(len(ids)), BG_BENCH_METHOD="POST")
        print(f"one bgserver on MariaDB, {len(ids)} contracts, payments by wrk "
              f"-t{args.threads} -c{args.connections} -d{args.seconds}s after "
              f"{args.warmup}s of warm-up")
        results = {}
        for streams in (0, args.streams):
            opened = Streams(port, key, streams) if streams else None
            time.sleep(1)
            if args.warmup:
                run_wrk(f"{base}/", args, script=script, seconds=args.warmup)
            before = opened.counts() if opened else (0, 0)
            cpu = cpu_seconds(workdir)
            results[streams] = run_wrk(f"{base}/", args, script=script)
            payments = results[streams]["rps"] * args.seconds
            results[streams]["cpu"] = (cpu_seconds(workdir) - cpu) / payments * 1e6
            if opened:
                time.sleep(1)  # the last batch
                events, size = (a - b for a, b in zip(opened.counts(), before))
                results[streams]["received"] = (
                    f"{events} events ({events / streams:.0f} per stream), "
                    f"{size / 1e6:.0f} MB received")
                opened.close()
        for streams, r in results.items():
            print(f"  {streams:>3} streams: {r['rps']:>8.1f} payments/s   latency avg "
                  f"{r['latency']}, p99 {r['p99']}   non-2xx {r['non_2xx']}   bgserver CPU "
                  f"{r['cpu']:.0f} µs per payment   {r.get('received', '')}")
        ratio = results[args.streams]["rps"] / results[0]["rps"]
        print(f"  bgserver CPU per payment with {args.streams} streams / without = "
              f"{results[args.streams]['cpu'] / results[0]['cpu']:.2f}")
        print(f"  with {args.streams} streams / without = {ratio:.2f}   (target: > 0.90)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
