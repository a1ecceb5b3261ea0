"""Snapshots of bgtui's main screens at 80x24 (pytest-textual-snapshot), against a real
server of their own holding fixed data, with a fixed "today" and time zone, so the
pictures change only when the screens do. ``--snapshot-update`` writes them anew."""

from __future__ import annotations

import datetime as dt

import pytest
from textual.widgets import TabbedContent

from bgtui.app import BillingTui
from bgtui.screens.contract import ContractScreen
from bgtui.screens.tariffs import TariffPlans
from bgtui.widgets.paged_table import PagedTable
from tests.e2e.server import BillingServer
from tests.e2e.tui_support import Http, log_in, wait_until

SIZE = (80, 24)
TODAY = dt.date(2025, 12, 15)


@pytest.fixture(scope="module")
def fixed(tmp_path_factory):
    """A server of these tests' own, with the same contracts and money every time."""
    server = BillingServer(tmp_path_factory.mktemp("snapshots"))
    server.start()
    http = Http(server.url)
    smirnov = http.contract("Smirnov Alexey", number="S-0001", date_from="2025-01-01",
                            limit="-100.00")
    http.contract("Smirnova Olga", number="S-0002", date_from="2025-02-01",
                  mode="postpaid")
    http.contract("Sobolev Igor", number="S-0003", date_from="2025-03-01")
    http.pay(smirnov["id"], "500.00", date="2025-03-10", comment="first")
    http.pay(smirnov["id"], "1200.00", date="2025-07-01", comment="bank", type_id=2)
    http("POST", f"/api/v1/contracts/{smirnov['id']}/charges",
         {"amount": "300.00", "date": "2025-05-15", "comment": "router"})
    fees = http("POST", "/api/v1/modules", {"type": "npay", "title": "Fees"})
    fee = http("POST", f"/api/v1/modules/{fees['id']}/services",
               {"title": "Subscription", "unit": "month"})
    extras = http("POST", "/api/v1/modules", {"type": "rscm", "title": "Services"})
    visit = http("POST", f"/api/v1/modules/{extras['id']}/services",
                 {"title": "Technician visit", "unit": "visit"})
    plans = {}
    for title, cabinet, amount in (("Home 350", "Home", "350.00"),
                                   ("Home Plus 750", "Home Plus", "750.00"),
                                   ("Office 2500", "", "2500.00")):
        modules = {str(fees["id"]): {"fees": [{"service_id": fee["id"], "amount": amount}]}}
        if cabinet:
            modules[str(extras["id"])] = {"prices": [{"service_id": visit["id"],
                                                      "price": "500.00"}]}
        plans[title] = http("POST", "/api/v1/tariffs", {"title": title,
                                                        "cabinet_title": cabinet,
                                                        "modules": modules})
    http("PATCH", f"/api/v1/tariffs/{plans['Office 2500']['id']}", {"enabled": False})
    http("POST", f"/api/v1/contracts/{smirnov['id']}/tariffs",
         {"tariff_id": plans["Home 350"]["id"], "from": "2025-01-01"})
    http("POST", f"/api/v1/contracts/{smirnov['id']}/tariffs",
         {"tariff_id": plans["Home Plus 750"]["id"], "from": "2025-06-01"})
    yield server, smirnov["id"]
    server.stop()


def app_for(url: str) -> BillingTui:
    return BillingTui(url, today=TODAY, zone=dt.timezone.utc)


def test_login_screen(snap_compare):
    assert snap_compare(app_for("http://billing.example:8080"), terminal_size=SIZE)


def test_contract_list(snap_compare, fixed):
    server, _ = fixed

    async def run_before(pilot):
        await log_in(pilot)
        await pilot.press(*"smi")
        table = pilot.app.screen.query_one("#contracts", PagedTable)
        await wait_until(pilot, lambda: pilot.app.screen.query_text == "smi"
                         and len(table.items) == 2, "the matches")
        await pilot.pause(0.1)

    assert snap_compare(app_for(server.url), terminal_size=SIZE, run_before=run_before)


def card_at(tab: str, ready=lambda card: True):
    async def run_before(pilot):
        await log_in(pilot)
        await pilot.press(*"S-0001", "enter")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ContractScreen)
                         and pilot.app.screen.contract is not None, "the card")
        card = pilot.app.screen
        card.query_one(TabbedContent).active = tab
        await wait_until(pilot, lambda: ready(card), f"the {tab} tab")
        await pilot.pause(0.2)

    return run_before


def test_tariff_plans(snap_compare, fixed):
    server, _ = fixed

    async def run_before(pilot):
        await log_in(pilot)
        pilot.app.open_view("tariffs")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, TariffPlans)
                         and len(pilot.app.screen.table.items) == 3, "the plans")
        await pilot.pause(0.2)

    assert snap_compare(app_for(server.url), terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize("tab, ready", [
    ("overview", lambda card: str(card.query_one("#ov-tariff").render()).strip()),
    ("payments", lambda card: len(card.query_one("#payments-table", PagedTable).items) == 2),
    ("balance", lambda card: card.query_one("#balance-table").row_count == 12),
    ("tariffs", lambda card: card.query_one("#tariffs-table").row_count == 2),
], ids=["overview", "payments", "balance", "tariffs"])
def test_contract_card(snap_compare, fixed, tab, ready):
    server, _ = fixed
    assert snap_compare(app_for(server.url), terminal_size=SIZE,
                        run_before=card_at(tab, ready))
