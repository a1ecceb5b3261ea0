"""Log files under logrotate: moved away, then SIGHUP, and the process writes new ones."""

from __future__ import annotations

import json
import signal

import pytest

from tests.support.processes import (CLEAN_STOP, TWISTD, BillingProcess, base_env, get_json,
                                     run_cli, wait_http)
from tests.support.services import free_port, wait_for

pytestmark = pytest.mark.slow


def test_sighup_reopens_the_access_log_and_twistds_own(tmp_path):
    port = free_port()
    env = base_env(BG_SERVER__LISTEN=f"tcp:{port}:interface=127.0.0.1",
                   BG_SERVER__ACCESS_LOG="access.log", BG_ADMIN_PASSWORD="rotated secret")
    run_cli(["init"], env, tmp_path)
    process = BillingProcess("bgbilling", env, tmp_path,
                             twistd=[*TWISTD, "--logfile=twistd.log"]).start()
    url = f"http://127.0.0.1:{port}/health"
    access, twistd_log = tmp_path / "access.log", tmp_path / "twistd.log"
    try:
        wait_http(url)
        wait_for(lambda: '"path":"/health"' in access.read_text(), 10, "the first line")
        access.rename(tmp_path / "access.log.1")
        twistd_log.rename(tmp_path / "twistd.log.1")
        process.process.send_signal(signal.SIGHUP)
        wait_for(lambda: twistd_log.exists() and "log files reopened" in twistd_log.read_text(),
                 10, "twistd's log reopened")
        assert get_json(url)[0] == 200
        wait_for(lambda: access.exists() and access.read_text(), 10, "a new access log")
        lines = [json.loads(line) for line in access.read_text().splitlines()]
        assert [(line["path"], line["status"]) for line in lines] == [("/health", 200)]
        assert process.process.poll() is None
    finally:
        code = process.stop()
    assert code == CLEAN_STOP, twistd_log.read_text()
    assert "Traceback" not in (tmp_path / "twistd.log.1").read_text() + twistd_log.read_text()
