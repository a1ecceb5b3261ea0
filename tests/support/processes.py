"""bgbilling processes run as a provider runs them: ``twistd -n <plugin>`` subprocesses."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from tests.support.services import wait_for

CLEAN_STOP = -signal.SIGTERM
TWISTD = [sys.executable, "-c", "from twisted.scripts.twistd import run; run()"]


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> str:
    result = subprocess.run([sys.executable, "-m", "bgserver.cli", *args], env=env, cwd=cwd,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def base_env(**settings: str) -> dict[str, str]:
    """The environment of a child process: ours, less any BG_ settings, plus ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BG_")}
    env.update(settings)
    return env


class BillingProcess:
    def __init__(self, plugin: str, env: dict[str, str], cwd: Path,
                 twistd: list[str] | None = None):
        self.plugin = plugin
        #: The twistd to run: this interpreter's by default, an installed one's if given.
        self.twistd = twistd or TWISTD
        self.env = env
        self.cwd = Path(cwd)
        self.log_path = self.cwd / f"{plugin}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> "BillingProcess":
        self.cwd.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [*self.twistd, "--nodaemon", "--pidfile=", self.plugin], env=self.env, cwd=self.cwd,
            stdout=self._log, stderr=subprocess.STDOUT)
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_log(self, pattern: str, timeout: float = 30) -> re.Match:
        def found():
            return re.search(pattern, self.log()) or self.process.poll() is not None
        try:
            match = wait_for(found, timeout, f"{pattern!r} in the {self.plugin} log")
        except TimeoutError:
            match = None
        if not isinstance(match, re.Match):
            raise AssertionError(f"{pattern!r} not in the {self.plugin} log:\n{self.log()}")
        return match

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, as an init system stops it; returns the exit code, where ``CLEAN_STOP``
        is twistd's own for a clean shutdown on SIGTERM (it re-raises the signal)."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait(10)
        self._log.close()
        self.process = None
        return code


def call_json(method: str, url: str, body: dict | None = None, token: str | None = None,
              timeout: float = 10, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    """A blocking HTTP call for tests that drive server processes from outside."""
    headers = {"Content-Type": "application/json", **(headers or {})}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def get_json(url: str, timeout: float = 10) -> tuple[int, dict]:
    return call_json("GET", url, timeout=timeout)


def wait_http(url: str, timeout: float = 30) -> None:
    wait_for(lambda: get_json(url, 2)[0] in (200, 503), timeout, url)
