"""A real bgbilling all-in-one server for end-to-end tests: its own process, temp dir,
SQLite file and free port, so tests see exactly what an operator's client sees."""

from __future__ import annotations

from pathlib import Path

from tests.support.processes import BillingProcess, base_env, run_cli, wait_http
from tests.support.services import free_port

ADMIN_PASSWORD = "e2e-admin-password"


class BillingServer:
    """``bgbilling init`` then ``twistd -n bgbilling``; ``start()``/``stop()``."""

    def __init__(self, base: Path):
        self.base = Path(base)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = base_env(BG_DATABASE__URL=f"sqlite:///{self.base / 'bgbilling.sqlite3'}",
                       BG_SERVER__LISTEN=f"tcp:{self.port}:interface=127.0.0.1",
                       BG_ADMIN_PASSWORD=ADMIN_PASSWORD)
        self.process = BillingProcess("bgbilling", env, self.base)

    def start(self) -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        run_cli(["init"], self.process.env, self.base)
        self.process.start()
        try:
            wait_http(self.url + "/health")
        except TimeoutError:
            self.stop()
            raise RuntimeError(f"bgbilling did not come up:\n{self.process.log()[-3000:]}")

    def stop(self) -> None:
        self.process.stop()
