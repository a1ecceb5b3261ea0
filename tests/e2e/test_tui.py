"""bgtui end to end against a real bgbilling server: Textual's pilot, then a real terminal.

The reactor: bgtui installs Twisted's asyncio reactor on Textual's own loop when it starts.
In this pytest process pytest-twisted has installed its default reactor at start-up, and a
process has one reactor for good, so bgtui cannot start here. Rather than run the app on a
reactor it never uses in production, each test runs bgtui in a process of its own: the
pilot test runs ``tests/e2e/tui_pilot.py`` (``app.run_test()``, prints what it saw as JSON,
the assertions stay here); the terminal test runs the ``bgtui`` console script under tmux.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.server import ADMIN_PASSWORD
from tests.e2e.tui_pilot import WRONG_LOGIN
from tests.support.services import free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def run_pilot(*args: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "tests.e2e.tui_pilot", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, f"pilot failed:\n{done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stderr, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def login_error_from_server(url: str, login: str) -> str:
    """What the dialog must show: the server's own message and code, read without bgtui."""
    request = urllib.request.Request(
        url + "/api/v1/auth/login", method="POST",
        data=json.dumps({"login": login, "password": "wrong"}).encode(),
        headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    error = json.load(caught.value)["error"]
    return f"{error['message']} ({error['code']})"


def test_pilot_status_refresh_and_login_error(billing_server):
    expected_login_error = login_error_from_server(billing_server.url, WRONG_LOGIN)
    seen = run_pilot(billing_server.url)

    assert seen["status"] == {"url": billing_server.url, "status": "ok", "database": "ok",
                              "events": "local, connected", "operator": "not logged in",
                              "checked": seen["status"]["checked"]}
    assert re.fullmatch(r"\d\d:\d\d:\d\d", seen["status"]["checked"])
    assert seen["problem"] == ""
    assert seen["periodic_refreshes"] >= 2
    assert seen["refresh_key_calls"] == 1
    assert seen["login_empty_error"] == "enter the login and the password"
    assert seen["password_focused"] is True
    assert seen["login_error"] == expected_login_error
    assert seen["still_on_login"] is True
    assert seen["operator_after_cancel"] == "not logged in"
    assert seen["operator"] == "admin"
    assert seen["has_token"] is True
    assert seen["reactor_running_inside"] is True
    assert seen["reactor_running_after"] is False  # stopped cleanly on exit


def test_pilot_server_down():
    url = f"http://127.0.0.1:{free_port()}"
    seen = run_pilot(url, "--down")
    assert seen["problem"].startswith(f"cannot reach {url}")
    assert seen["database"] == "?"
    assert seen["checked_bad"] is True


class Tmux:
    """A tmux server of its own (own socket), so nothing touches the user's sessions."""

    def __init__(self, socket: Path):
        self.socket = str(socket)

    def __call__(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-S", self.socket, *args], capture_output=True,
                              text=True, timeout=10)
        assert done.returncode == 0, f"tmux {args}: {done.stderr}"
        return done.stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "bgtui")

    def wait_for(self, check, what: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if check(screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} not on screen after {timeout}s:\n{screen}")
            time.sleep(0.05)


@pytest.fixture
def tmux(tmp_path):
    if shutil.which("tmux") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("tmux is not installed; under CI=true it must be", pytrace=False)
        pytest.skip("tmux is not installed (Debian package tmux)")
    server = Tmux(tmp_path / "tmux.sock")
    yield server
    subprocess.run(["tmux", "-S", server.socket, "kill-server"], capture_output=True,
                   timeout=10)


def test_terminal_under_tmux(billing_server, tmux, tmp_path):
    exit_file = tmp_path / "bgtui.exit"
    # The shell records bgtui's exit status (tmux's own #{pane_dead_status} proved
    # unreliable: tmux 3.3a here sometimes never reaps the pane's process); remain-on-exit
    # keeps the pane's last screen, where a traceback would be.
    command = (f"{BIN / 'bgtui'} --url {billing_server.url} --refresh 1; "
               f"echo $? > {exit_file}")
    tmux("new-session", "-d", "-x", "120", "-y", "40", "-s", "bgtui", command, ";",
         "set-option", "-t", "bgtui", "remain-on-exit", "on")

    # Each wait is for the whole expected picture: a capture may catch a frame half drawn.
    health = [rf"Server\s+{re.escape(billing_server.url)}", r"Status\s+ok", r"Database\s+ok",
              r"Events\s+local, connected", r"Operator\s+not logged in"]
    tmux.wait_for(lambda s: all(re.search(line, s) for line in health), "the health")

    tmux("send-keys", "-t", "bgtui", "l")
    tmux.wait_for(lambda s: "Log in to" in s and "Password" in s, "the login dialog")
    tmux("send-keys", "-t", "bgtui", "tmux-nobody", "Enter", "wrong", "Enter")
    tmux.wait_for(lambda s: "(unauthenticated)" in s, "the login error")
    tmux("send-keys", "-t", "bgtui", "Escape")
    # The dialog covers the Operator line: the whole line again means the dialog is gone.
    tmux.wait_for(lambda s: "Log in to" not in s and re.search(health[-1], s),
                  "the dialog closed")

    tmux("send-keys", "-t", "bgtui", "l")
    tmux.wait_for(lambda s: "Log in to" in s and "Password" in s, "the login dialog again")
    tmux("send-keys", "-t", "bgtui", "admin", "Enter", ADMIN_PASSWORD, "Enter")
    tmux.wait_for(lambda s: "Log in to" not in s and re.search(r"Operator\s+admin\b", s),
                  "the operator logged in")

    tmux("send-keys", "-t", "bgtui", "q")
    deadline = time.monotonic() + 15
    while not (exit_file.exists() and exit_file.read_text().strip()):
        assert time.monotonic() < deadline, f"bgtui did not exit:\n{tmux.screen()}"
        time.sleep(0.05)
    assert exit_file.read_text().strip() == "0", tmux.screen()
    assert "Traceback" not in tmux.screen()
