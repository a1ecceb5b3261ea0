"""A real bgbilling all-in-one server for end-to-end tests: its own process, temp dir,
SQLite file and free port, so tests see exactly what an operator's client sees."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.support.services import free_port

ADMIN_PASSWORD = "e2e-admin-password"


class BillingServer:
    """``bgbilling init`` then ``twistd -n bgbilling``; ``start()``/``stop()``."""

    def __init__(self, base: Path):
        self.base = Path(base)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ,
                    "BG_DATABASE__URL": f"sqlite:///{self.base / 'bgbilling.sqlite3'}",
                    "BG_SERVER__LISTEN": f"tcp:{self.port}:interface=127.0.0.1",
                    "BG_ADMIN_PASSWORD": ADMIN_PASSWORD}
        self.env.pop("BG_CONFIG", None)
        self.process: subprocess.Popen | None = None
        self.log_path = self.base / "twistd.log"

    def start(self) -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        bin_dir = Path(sys.executable).parent
        init = subprocess.run([str(bin_dir / "bgbilling"), "init"], cwd=self.base,
                              env=self.env, capture_output=True, text=True, timeout=60)
        if init.returncode != 0:
            raise RuntimeError(f"bgbilling init failed ({init.returncode}):\n"
                               f"{init.stdout}{init.stderr[-3000:]}")
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [str(bin_dir / "twistd"), "-n", "--pidfile=", "bgbilling"], cwd=self.base,
            env=self.env, stdout=self._log, stderr=subprocess.STDOUT)
        self._wait_healthy(timeout=30)

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:  # fail at once, with the server's words
                raise RuntimeError(f"twistd exited with {self.process.returncode}: "
                                   f"{self.log_path.read_text(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=1) as answer:
                    if json.load(answer)["status"] == "ok":
                        return
            except OSError as exc:  # not listening yet
                last = exc
            time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"bgbilling on port {self.port} not healthy after {timeout}s "
                           f"(last error: {last!r}); log: {self.log_path}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self.process = None
        self._log.close()
