"""The processes as a provider runs them: bgserver, bgscheduler and bgloader on one MariaDB
and one ActiveMQ, and the all-in-one bgbilling on SQLite."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest

from tests.support.processes import (CLEAN_STOP, BillingProcess, base_env, call_json, get_json,
                                     run_cli, wait_http)
from tests.support.services import free_port, wait_for

pytestmark = [pytest.mark.mariadb, pytest.mark.activemq, pytest.mark.slow]


def assert_clean_stop(process: BillingProcess, code: int | None = None) -> None:
    code = process.stop() if code is None else code
    assert code == CLEAN_STOP, process.log()
    text = process.log()
    assert "Server Shut Down." in text
    assert "Traceback" not in text and "Unhandled" not in text, text


def test_three_processes_exchange_events_through_activemq(mariadb, activemq, tmp_path):
    port = free_port()
    env = base_env(BG_DATABASE__URL=mariadb.create_database(), BG_EVENTS__BROKER=activemq.url,
                   BG_SERVER__LISTEN=f"tcp:{port}:interface=127.0.0.1",
                   BG_SCHEDULER__TICK="0.5", BG_ADMIN_PASSWORD="not-logged-anywhere")
    run_cli(["init"], env, tmp_path)
    scheduler = BillingProcess("bgscheduler", env, tmp_path).start()
    loader = BillingProcess("bgloader", env, tmp_path).start()
    server = BillingProcess("bgserver", env, tmp_path)
    processes = [scheduler, loader, server]
    try:
        for process in (scheduler, loader):
            process.wait_log(r"event bus connected")
            process.wait_log(r"announced \S+ as process.started")
        server.start()
        announced = server.wait_log(r"announced (bgserver@\S+) as process.started event (\S+)")
        server_holder, event_id = announced.group(1), announced.group(2)
        # bgserver's event reaches the two others through the broker...
        for process in (scheduler, loader):
            process.wait_log(rf"peer {re.escape(server_holder)} started \(event {event_id}\)")
        # ...and their answers reach bgserver.
        server.wait_log(r"peer bgscheduler@\S+ is up")
        server.wait_log(r"peer bgloader@\S+ is up")
        scheduler.wait_log(r"took the lease: running tasks")

        url = f"http://127.0.0.1:{port}/health"
        wait_http(url)
        status, body = get_json(url)
        assert status == 200
        assert body == {"status": "ok", "database": "ok",
                        "events": {"broker": activemq.url, "connected": True}}
        server.wait_log(r'"method":"GET","path":"/health","status":200,"duration_ms":[0-9.]+')
    finally:
        codes = [process.stop() for process in processes]
    for process, code in zip(processes, codes):
        assert_clean_stop(process, code)
        assert "not-logged-anywhere" not in process.log()


def test_all_in_one_on_sqlite_starts_and_stops_cleanly(tmp_path):
    port = free_port()
    access_log = tmp_path / "access.log"
    env = base_env(BG_SERVER__LISTEN=f"tcp:{port}:interface=127.0.0.1",
                   BG_SERVER__ACCESS_LOG=str(access_log))
    out = run_cli(["init"], env, tmp_path)
    assert re.search(r"operator admin created; password \(shown once\): \S{12,}", out)
    assert "exists already" in run_cli(["init"], env, tmp_path)
    demo = run_cli(["demo"], env, tmp_path)
    # the Fees instance's task, run by the scheduler, charged the demo's three months
    charged = re.search(r"and (\d+\.\d\d) of fees charged by the scheduler", demo)
    assert charged and Decimal(charged.group(1)) > 0, demo
    allinone = BillingProcess("bgbilling", env, tmp_path).start()
    try:
        allinone.wait_log(r"announced bgbilling@\S+ as process.started")
        allinone.wait_log(r"took the lease: running tasks")
        wait_http(f"http://127.0.0.1:{port}/health")
        assert get_json(f"http://127.0.0.1:{port}/health") == (
            200, {"status": "ok", "database": "ok",
                  "events": {"broker": "local", "connected": True}})
        assert (tmp_path / "var" / "bgbilling.sqlite3").exists()
        assert (tmp_path / "var" / "bgbilling.sqlite3-wal").exists()  # WAL mode
    finally:
        assert_clean_stop(allinone)
    # written 0.2 s after the requests, or at the stop at the latest
    lines = [json.loads(line) for line in access_log.read_text().splitlines()]
    assert [(r["method"], r["path"], r["status"]) for r in lines[-2:]] == [
        ("GET", "/health", 200)] * 2


def test_a_process_refuses_to_start_on_a_database_not_initialised(tmp_path):
    process = BillingProcess("bgserver", base_env(), tmp_path).start()
    process.process.wait(60)
    assert process.stop() not in (0, CLEAN_STOP)
    assert "run `bgbilling init`" in process.log()


def test_a_wrong_setting_stops_start_up_naming_the_key(tmp_path):
    (tmp_path / "bgbilling.toml").write_text('[server]\nlisten = "tcp:1"\nlissten = "x"\n')
    process = BillingProcess("bgbilling", base_env(), tmp_path).start()
    process.process.wait(60)
    assert process.stop() not in (0, CLEAN_STOP)
    assert "server.lissten: unknown key" in process.log()


def test_an_access_log_that_cannot_be_written_stops_start_up_naming_the_key(tmp_path):
    env = base_env(BG_SERVER__ACCESS_LOG=str(tmp_path / "no-such-dir" / "access.log"))
    run_cli(["init"], env, tmp_path)
    process = BillingProcess("bgserver", env, tmp_path).start()
    process.process.wait(60)
    assert process.stop() not in (0, CLEAN_STOP)
    assert "server.access_log: cannot write" in process.log()
    assert "No such file or directory" in process.log()


def test_health_answers_503_while_the_database_is_down(own_mariadb, tmp_path):
    db = own_mariadb
    port = free_port()
    env = base_env(BG_DATABASE__URL=db.create_database(), BG_DATABASE__CONNECT_TIMEOUT="1",
                   BG_SERVER__LISTEN=f"tcp:{port}:interface=127.0.0.1")
    run_cli(["init"], env, tmp_path)
    server = BillingProcess("bgserver", env, tmp_path).start()
    url = f"http://127.0.0.1:{port}/health"
    try:
        wait_http(url)
        assert get_json(url)[0] == 200
        db.stop()
        status, body = get_json(url)
        assert status == 503
        assert body["status"] == "error"
        assert body["database"].startswith("unavailable: ")
        db.start()
        assert get_json(url) == (200, {"status": "ok", "database": "ok",
                                       "events": {"broker": "local", "connected": True}})
    finally:
        assert server.stop() == CLEAN_STOP


def test_two_bgservers_on_one_mariadb_act_as_one(mariadb, activemq, tmp_path):
    url = mariadb.create_database()
    ports = [free_port(), free_port()]
    # a long cache: only the access.revoked event can make the other server forget quickly
    env = base_env(BG_DATABASE__URL=url, BG_ADMIN_PASSWORD="admin-pass-1",
                   BG_EVENTS__BROKER=activemq.url, BG_AUTH__CACHE_SECONDS="30")
    run_cli(["init"], env, tmp_path)
    servers = [BillingProcess("bgserver", {**env, "BG_SERVER__LISTEN":
                                           f"tcp:{port}:interface=127.0.0.1"}, tmp_path / str(i))
               for i, port in enumerate(ports)]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for server, base in zip(servers, bases):
            server.start()
            wait_http(base + "/health")
        status, session = call_json("POST", bases[0] + "/api/v1/auth/login",
                                    {"login": "admin", "password": "admin-pass-1"})
        assert status == 200
        status, me = call_json("GET", bases[1] + "/api/v1/me", token=session["token"])
        assert status == 200 and me["login"] == "admin"
        # failures against both count together: 5 in all, then 429 from either
        for n in range(5):
            status, _ = call_json("POST", bases[n % 2] + "/api/v1/auth/login",
                                  {"login": "admin", "password": f"guess {n}"})
            assert status == 401
        for base in bases:
            status, body = call_json("POST", base + "/api/v1/auth/login",
                                     {"login": "admin", "password": "admin-pass-1"})
            assert status == 429 and body["error"]["code"] == "too_many_requests"
        # logging out on one ends the session on the other, cached there or not
        assert call_json("GET", bases[0] + "/api/v1/me", token=session["token"])[0] == 200
        assert call_json("POST", bases[1] + "/api/v1/auth/logout", {},
                         token=session["token"])[0] == 200
        wait_for(lambda: call_json("GET", bases[0] + "/api/v1/me",
                                   token=session["token"])[0] == 401, 5, "revocation")
    finally:
        codes = [server.stop() for server in servers]
    assert codes == [CLEAN_STOP, CLEAN_STOP]
    for server in servers:
        assert "admin-pass-1" not in server.log() and session["token"] not in server.log()
