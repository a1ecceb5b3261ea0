"""End-to-end fixtures: one real bgbilling server for the session."""

import pytest

from tests.e2e.server import BillingServer


@pytest.fixture(scope="session")
def billing_server(tmp_path_factory):
    server = BillingServer(tmp_path_factory.mktemp("bgbilling"))
    server.start()
    yield server
    server.stop()
