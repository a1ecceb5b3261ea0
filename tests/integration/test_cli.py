"""``bgbilling user`` and ``bgbilling apikey``: the same rules as the API, from a shell."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, select

from bgserver.billing.passwords import verify_password
from bgserver.storage.schema import api_key, audit, auth_session, operator
from tests.support.processes import base_env


def cli(args, env, cwd, stdin="", check=True):
    result = subprocess.run([sys.executable, "-m", "bgserver.cli", *args], env=env, cwd=cwd,
                            input=stdin, capture_output=True, text=True, timeout=120)
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def shell(db_url, tmp_path):
    env = base_env(BG_DATABASE__URL=db_url, BG_ADMIN_PASSWORD="admin-pass-1")
    cli(["init"], env, tmp_path)
    return env, tmp_path, create_engine(db_url)


def test_user_add_passwd_disable(shell):
    env, cwd, engine = shell
    out = cli(["user", "add", "kassa", "--name", "Cash desk", "--role", "admin"], env, cwd,
              stdin="first-password\n").stdout
    assert re.search(r"operator kassa created \(id \d+\)", out)
    with engine.connect() as conn:
        row = conn.execute(select(operator).where(operator.c.login == "kassa")).one()
        conn.execute(auth_session.insert().values(
            token_hash="x" * 64, operator_id=row.id, created_at=row.created_at,
            expires_at=row.created_at, last_seen_at=row.created_at))
        conn.commit()
    assert verify_password(row.password_hash, "first-password")
    cli(["user", "passwd", "kassa"], env, cwd, stdin="second-password\n")
    cli(["user", "disable", "kassa"], env, cwd)
    with engine.connect() as conn:
        row = conn.execute(select(operator).where(operator.c.login == "kassa")).one()
        revoked = conn.execute(select(auth_session.c.revoked_at)).scalar_one()
        actions = conn.execute(select(audit.c.action, audit.c.actor_name)
                               .order_by(audit.c.id)).all()
    assert verify_password(row.password_hash, "second-password")
    assert row.status == "disabled" and revoked is not None
    assert actions[-3:] == [("operator.create", "cli"), ("operator.update", "cli"),
                            ("operator.update", "cli")]
    failed = cli(["user", "add", "kassa"], env, cwd, stdin="another-password\n", check=False)
    assert failed.returncode != 0 and "exists already" in failed.stderr
    short = cli(["user", "add", "x2"], env, cwd, stdin="short\n", check=False)
    assert short.returncode != 0 and "password" in short.stderr


def test_apikey_create_and_revoke(shell):
    env, cwd, engine = shell
    out = cli(["apikey", "create", "1C accounting", "--role", "admin"], env, cwd).stdout
    key_id, key = re.search(r"API key (\d+) created; the key \(shown once\): (bgk_\S+)",
                            out).groups()
    with engine.connect() as conn:
        stored = conn.execute(select(api_key)).one()
    assert key not in str(stored)
    cli(["apikey", "revoke", key_id], env, cwd)
    with engine.connect() as conn:
        assert conn.execute(select(api_key.c.revoked_at)).scalar_one() is not None
    unknown = cli(["apikey", "revoke", "999"], env, cwd, check=False)
    assert unknown.returncode != 0 and "no such API key" in unknown.stderr
    bad_role = cli(["apikey", "create", "x", "--role", "nope"], env, cwd, check=False)
    assert bad_role.returncode != 0 and "unknown roles" in bad_role.stderr
