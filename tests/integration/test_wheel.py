"""Installed, not only checked out: the wheel in a fresh virtualenv, run from elsewhere.

The wheel is built from a copy of the sources with a template and a static file added in
nested folders, so the package data globs are proved to carry what the cabinet will hold.
The virtualenv is a plain one (no system site-packages) and nothing of the checkout is on
its path: every file it runs is one the wheel brought.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from tests.support.processes import CLEAN_STOP, BillingProcess, base_env, get_json, wait_http
from tests.support.services import free_port

pytestmark = pytest.mark.slow

CHECKOUT = Path(__file__).resolve().parents[2]
SOURCES = ["pyproject.toml", "README.md", "bgserver", "bgshared", "bgtui", "twisted"]
PROBES = ["bgserver/cabinet/templates/contract/probe.html",
          "bgserver/cabinet/static/css/probe.css"]


def run(command: list[str], **kwargs) -> str:
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, **kwargs)
    assert result.returncode == 0, f"{command}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def build_wheel(tmp_path: Path) -> Path:
    source = tmp_path / "source"
    source.mkdir()
    for name in SOURCES:
        path = CHECKOUT / name
        if path.is_dir():
            shutil.copytree(path, source / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(path, source / name)
    for probe in PROBES:
        (source / probe).parent.mkdir(parents=True, exist_ok=True)
        (source / probe).write_text("probe\n")
    dist = tmp_path / "dist"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dist),
         str(source)])
    (wheel,) = dist.glob("bgbilling-*.whl")
    return wheel


def test_the_wheel_installed_in_a_fresh_virtualenv_initialises_and_serves(tmp_path):
    wheel = build_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    migrations = [CHECKOUT / p for p in ("bgserver/storage/migrations/env.py",
                                         "bgserver/storage/migrations/script.py.mako")]
    migrations += sorted((CHECKOUT / "bgserver/storage/migrations/versions").glob("*.py"))
    expected = {str(p.relative_to(CHECKOUT)) for p in migrations}
    expected |= {"twisted/plugins/bgbilling_plugins.py", "bgtui/bgtui.tcss", *PROBES}
    assert expected <= names, sorted(expected - names)
    assert "twisted/__init__.py" not in names and "twisted/plugins/__init__.py" not in names

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(env_dir)
    bin_dir = env_dir / "bin"
    clean = {k: v for k, v in base_env().items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet",
         "--disable-pip-version-check", str(wheel)], env=clean)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = run([str(bin_dir / "python"), "-c", "import bgserver.storage.migrate as m; "
                 "print(m.MIGRATIONS)"], env=clean, cwd=elsewhere).strip()
    assert Path(where).is_relative_to(env_dir), where

    port = free_port()
    env = {**clean, "BG_ADMIN_PASSWORD": "a long installed secret",
           "BG_SERVER__LISTEN": f"tcp:{port}:interface=127.0.0.1"}
    out = run([str(bin_dir / "bgbilling"), "init"], env=env, cwd=elsewhere)
    assert "operator admin created" in out
    assert (elsewhere / "var" / "bgbilling.sqlite3").exists()

    server = BillingProcess("bgbilling", env, elsewhere, twistd=[str(bin_dir / "twistd")])
    server.start()
    try:
        url = f"http://127.0.0.1:{port}/health"
        wait_http(url, timeout=60)
        assert get_json(url)[0] == 200
    finally:
        code = server.stop()
    assert code == CLEAN_STOP, server.log()
    assert "Traceback" not in server.log(), server.log()
    assert os.fspath(CHECKOUT) not in server.log()
