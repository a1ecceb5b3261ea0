"""MariaDB restarted under a stream of payments: a request that fails answers 503, nothing
is half-written, bgserver carries on by itself, and retries with the same Idempotency-Key
give exactly one payment each."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, func, select

from bgserver.storage.schema import balance, contract, payment
from tests.support.processes import (CLEAN_STOP, BillingProcess, base_env, call_json, run_cli,
                                     wait_http)
from tests.support.services import free_port

pytestmark = [pytest.mark.mariadb, pytest.mark.slow]


def test_payments_survive_a_database_restart(own_mariadb, tmp_path):
    db = own_mariadb
    url = db.create_database()
    port = free_port()
    env = base_env(BG_DATABASE__URL=url, BG_ADMIN_PASSWORD="admin-pass-1",
                   BG_DATABASE__CONNECT_TIMEOUT="1", BG_DATABASE__RETRIES="2",
                   BG_SERVER__LISTEN=f"tcp:{port}:interface=127.0.0.1")
    run_cli(["init"], env, tmp_path)
    server = BillingProcess("bgserver", env, tmp_path).start()
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + "/health")
        token = call_json("POST", base + "/api/v1/auth/login",
                          {"login": "admin", "password": "admin-pass-1"})[1]["token"]
        status, created = call_json("POST", base + "/api/v1/contracts",
                                    {"title": "Restart", "mode": "postpaid"}, token=token)
        assert status == 201
        payments = f"{base}/api/v1/contracts/{created['id']}/payments"
        amounts = {f"pay-{n}": Decimal(n % 97 + 1) + Decimal("0.01") for n in range(240)}
        answers: dict[str, int] = {}
        restarted = threading.Event()

        def post(key: str) -> None:
            if key == "pay-60":
                restarted.set()
            status, body = call_json("POST", payments, {"amount": str(amounts[key])},
                                     token=token, headers={"Idempotency-Key": key})
            answers[key] = status
            time.sleep(0.01)

        with ThreadPoolExecutor(4) as pool:
            running = pool.map(post, amounts)
            restarted.wait(60)
            db.stop()
            time.sleep(1.5)
            db.start()
            list(running)
        assert set(answers.values()) <= {201, 503}, answers
        assert 503 in answers.values() and 201 in answers.values()
        # carried on by itself; every failed request retried with its key
        for key, status in answers.items():
            if status == 503:
                status, _ = call_json("POST", payments, {"amount": str(amounts[key])},
                                      token=token, headers={"Idempotency-Key": key})
                assert status == 201
        for key in list(amounts)[:20]:  # and retries of ones that had worked change nothing
            assert call_json("POST", payments, {"amount": str(amounts[key])}, token=token,
                             headers={"Idempotency-Key": key})[0] == 201
    finally:
        code = server.stop()
    assert code == CLEAN_STOP
    engine = create_engine(url)
    with engine.connect() as conn:
        stored = conn.execute(select(func.count(), func.sum(payment.c.amount))).one()
        month_payments = conn.execute(select(func.sum(balance.c.payments))).scalar_one()
        current = conn.execute(select(contract.c.balance)).scalar_one()
    total = sum(amounts.values(), Decimal("0.00"))
    assert stored == (len(amounts), total)
    assert month_payments == total and current == total
    assert "unhandled error" not in server.log()  # never a 500
