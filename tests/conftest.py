"""Fixtures: databases (SQLite and a real MariaDB), a real ActiveMQ, the fake clock."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
import pytest_twisted
from twisted.internet.task import Clock

from bgserver.clock import BillingClock
from bgserver.config import Settings
from bgserver.storage import migrate
from bgserver.storage.database import Database
from tests.support.services import ActiveMQ, MariaDB, ServiceMissing

CI = os.environ.get("CI") == "true"
ZONE = ZoneInfo("Europe/Moscow")


def unavailable(reason: str):
    """Skip on a developer's machine; under CI a missing service fails the run."""
    if CI:
        pytest.fail(f"{reason}; under CI=true every service must be there", pytrace=False)
    pytest.skip(reason)


def started(service_class, base):
    """A MariaDB or ActiveMQ of its own in ``base``, running."""
    try:
        service = service_class(base)
    except ServiceMissing as exc:
        unavailable(str(exc))
    service.start()
    return service


@pytest.fixture(scope="session")
def mariadb(tmp_path_factory):
    server = started(MariaDB, tmp_path_factory.mktemp("mariadb"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def activemq(tmp_path_factory):
    broker = started(ActiveMQ, tmp_path_factory.mktemp("activemq"))
    yield broker
    broker.stop()


@pytest.fixture
def own_mariadb(tmp_path):
    """A MariaDB of this test's own, for tests that stop and restart it."""
    server = started(MariaDB, tmp_path / "own-mariadb")
    yield server
    server.stop()


@pytest.fixture
def own_activemq(tmp_path):
    """An ActiveMQ of this test's own, for tests that stop and restart it."""
    broker = started(ActiveMQ, tmp_path / "own-activemq")
    yield broker
    broker.stop()


@pytest.fixture(params=["sqlite", pytest.param("mariadb", marks=pytest.mark.mariadb)])
def db_url(request, tmp_path):
    """A new empty database, on each of the two stores."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/bgbilling.sqlite3"
    return request.getfixturevalue("mariadb").create_database()


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path}/bgbilling.sqlite3"


def open_database(url: str) -> Database:
    database = Database(Settings().with_overrides(database={"url": url}).database)
    migrate.upgrade(database.engine)
    database.startService()
    return database


@pytest.fixture
def database(db_url):
    """A migrated Database on SQLite and on MariaDB, its thread pool running."""
    database = open_database(db_url)
    yield database
    pytest_twisted.blockon(database.stopService())


@pytest.fixture
def sqlite_database(sqlite_url):
    database = open_database(sqlite_url)
    yield database
    pytest_twisted.blockon(database.stopService())


@pytest.fixture
def fake_reactor():
    """Time that tests move by hand, starting at 2026-01-15 12:00 UTC."""
    clock = Clock()
    clock.advance(datetime(2026, 1, 15, 12, 0, tzinfo=timezone.utc).timestamp())
    return clock


@pytest.fixture
def clock(fake_reactor):
    return BillingClock(fake_reactor, ZONE)


@pytest.fixture
def api(database, clock):
    """The whole API over HTTP on SQLite and MariaDB, with the fake clock."""
    from tests.support.api import ApiHarness
    harness = ApiHarness(database, clock)
    yield harness
    harness.close()


@pytest.fixture
def sqlite_api(sqlite_database, clock):
    from tests.support.api import ApiHarness
    harness = ApiHarness(sqlite_database, clock)
    yield harness
    harness.close()
