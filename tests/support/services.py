"""Real MariaDB and ActiveMQ servers for the tests, each a private process in a temp dir.

Both come from Debian's packages (``mariadb-server``, ``activemq``); ``.ci/run`` installs
them. A fixture that cannot find them skips its tests on a developer's machine and fails
the run under ``CI=true``, where nothing may be skipped silently.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pymysql

MARIADBD = shutil.which("mariadbd") or "/usr/sbin/mariadbd"
MARIADB_INSTALL_DB = shutil.which("mariadb-install-db") or "/usr/bin/mariadb-install-db"
ACTIVEMQ_JAR = "/usr/share/activemq/bin/activemq.jar"
ACTIVEMQ_HOME = "/usr/share/activemq"


class ServiceMissing(Exception):
    """The package that provides a service is not installed."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except Exception as exc:  # the service is still starting
            last = exc
        time.sleep(interval)
    raise TimeoutError(f"{what} not ready after {timeout}s (last error: {last!r})")


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


class MariaDB:
    """A MariaDB server of its own: ``start()``, ``stop()``, ``start()`` again keeps the data."""

    def __init__(self, base: Path):
        if not (os.path.exists(MARIADBD) and os.path.exists(MARIADB_INSTALL_DB)):
            raise ServiceMissing("MariaDB is not installed (Debian package mariadb-server)")
        self.base = Path(base)
        self.datadir = self.base / "data"
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        if not self.datadir.exists():
            self.base.mkdir(parents=True, exist_ok=True)
            subprocess.run([MARIADB_INSTALL_DB, "--no-defaults", f"--datadir={self.datadir}",
                            "--user=root", "--auth-root-authentication-method=normal",
                            "--skip-test-db"], check=True, capture_output=True)
        self.process = subprocess.Popen(
            [MARIADBD, "--no-defaults", f"--datadir={self.datadir}",
             f"--socket={self.base / 'mysqld.sock'}", f"--port={self.port}",
             "--bind-address=127.0.0.1", "--user=root", "--skip-name-resolve",
             "--innodb-buffer-pool-size=256M", "--innodb-flush-log-at-trx-commit=2",
             "--max-connections=500", "--character-set-server=utf8mb4",
             f"--log-error={self.base / 'error.log'}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: self.connect().close() or True, 30, "MariaDB")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(30)
            self.process = None

    def kill(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(30)
            self.process = None

    def connect(self, database: str | None = None) -> pymysql.Connection:
        return pymysql.connect(host="127.0.0.1", port=self.port, user="root",
                               database=database, connect_timeout=2, autocommit=True)

    def create_database(self) -> str:
        """A new empty database; returns its SQLAlchemy URL."""
        name = "t_" + uuid.uuid4().hex[:12]
        conn = self.connect()
        try:
            conn.cursor().execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
        finally:
            conn.close()
        return self.url(name)

    def url(self, database: str) -> str:
        return f"mysql+pymysql://root@127.0.0.1:{self.port}/{database}"


ACTIVEMQ_XML = """<beans xmlns="http://www.springframework.org/schema/beans"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="http://www.springframework.org/schema/beans
    http://www.springframework.org/schema/beans/spring-beans-2.0.xsd
    http://activemq.apache.org/schema/core
    http://activemq.apache.org/schema/core/activemq-core.xsd">
  <broker xmlns="http://activemq.apache.org/schema/core" useJmx="false"
          brokerName="bgbilling-test" dataDirectory="{data}" schedulerSupport="false">
    <persistenceAdapter><kahaDB directory="{data}/kahadb"/></persistenceAdapter>
    <systemUsage><systemUsage>
      <storeUsage><storeUsage limit="1 gb"/></storeUsage>
      <tempUsage><tempUsage limit="512 mb"/></tempUsage>
    </systemUsage></systemUsage>
    <transportConnectors>
      <transportConnector name="stomp" uri="stomp://127.0.0.1:{port}"/>
    </transportConnectors>
  </broker>
</beans>
"""


class ActiveMQ:
    """An ActiveMQ broker of its own with a STOMP connector on 127.0.0.1; persistent data
    survives ``stop()``/``start()``."""

    def __init__(self, base: Path):
        java = shutil.which("java")
        if not (java and os.path.exists(ACTIVEMQ_JAR)):
            raise ServiceMissing("ActiveMQ is not installed (Debian package activemq)")
        self.java = java
        self.base = Path(base)
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"stomp://127.0.0.1:{self.port}"

    def start(self) -> None:
        data = self.base / "data"
        (self.base / "tmp").mkdir(parents=True, exist_ok=True)
        data.mkdir(parents=True, exist_ok=True)
        config = self.base / "activemq.xml"
        config.write_text(ACTIVEMQ_XML.format(data=data, port=self.port))
        self.log = open(self.base / "broker.log", "ab")
        self.process = subprocess.Popen(
            [self.java, "-Xms64M", "-Xmx384M", "-Djava.awt.headless=true",
             f"-Djava.io.tmpdir={self.base / 'tmp'}", f"-Dactivemq.classpath={self.base}",
             f"-Dactivemq.home={ACTIVEMQ_HOME}", f"-Dactivemq.base={self.base}",
             f"-Dactivemq.conf={self.base}", f"-Dactivemq.data={data}",
             "-jar", ACTIVEMQ_JAR, "start", f"xbean:file:{config}"],
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(lambda: self._check_alive() and port_open(self.port), 90, "ActiveMQ")

    def _check_alive(self) -> bool:
        if self.process is None or self.process.poll() is not None:
            raise RuntimeError(f"ActiveMQ exited; see {self.base / 'broker.log'}")
        return True

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
            self.process = None
            self.log.close()
            wait_for(lambda: not port_open(self.port), 10, "ActiveMQ port release")
