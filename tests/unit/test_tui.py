"""bgtui without a server: the catalogue, money and dates per language, the event feed."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest

from bgtui import i18n
from bgtui.live import LiveFeed
from bgtui.screens.contract import months_back

BGTUI = Path(i18n.__file__).parent


@pytest.fixture(autouse=True)
def english():
    yield
    i18n.set_language("en")


def test_every_key_used_is_in_the_catalogue_in_both_languages():
    used = set()
    for source in BGTUI.rglob("*.py"):
        text = source.read_text()
        used |= set(re.findall(r'\bt\(\s*"([a-z_]+\.[a-z_.]+)"', text))
        used |= set(re.findall(r'"((?:app|card|contracts|dir|form|help|login|problem|status|'
                               r'view|col|field|tab|nav|run|task)\.[a-z_]+)"', text))
    missing = sorted(k for k in used if k not in i18n.CATALOGUE)
    assert not missing
    assert all(len(texts) == 2 and all(texts) for key, texts in i18n.CATALOGUE.items()
               if key != "live.off")


def test_money_and_dates_per_language():
    amount = Decimal("-1234567.5")
    assert i18n.money(amount) == "-1,234,567.50"
    assert i18n.day(dt.date(2026, 3, 9)) == "2026-03-09"
    assert i18n.month("2026-03") == "Mar 2026"
    i18n.set_language("ru")
    assert i18n.money(amount) == "-1 234 567,50"
    assert i18n.day(dt.date(2026, 3, 9)) == "09.03.2026"
    assert i18n.month("2026-03") == "мар 2026"
    assert i18n.t("st.blocked") == "заблокирован"
    assert i18n.status("blocked", "balance") == "заблокирован (по балансу)"
    assert i18n.parse_money("1 234,50") == Decimal("1234.50")
    assert i18n.parse_day("09.03.2026") == dt.date(2026, 3, 9)


def test_parse_money_refuses_what_is_not_exact():
    with pytest.raises(ValueError):
        i18n.parse_money("1.234")
    assert i18n.parse_money("100,5") == Decimal("100.50")


def test_last_twelve_months_cross_the_year():
    months = months_back(dt.date(2026, 2, 10), 12)
    assert months[0] == "2025-03" and months[-1] == "2026-02" and len(months) == 12


def test_feed_hands_out_each_event_once_and_resumes_from_the_last_id():
    feed = LiveFeed()
    seen = []
    unsubscribe = feed.subscribe(lambda e: seen.append((e.id, e.contract_id)))
    asked_from = []
    batches = [[{"id": 1, "type": "payment.created", "contract_id": 7},
                {"id": 2, "type": "balance.changed", "contract_id": 7}],
               [{"id": 2, "type": "balance.changed", "contract_id": 7},  # again: dropped
                {"id": 3, "type": "contract.changed", "contract_id": 8}]]

    async def source(last_id):
        asked_from.append(last_id)
        if not batches:
            await asyncio.Event().wait()  # stays open, quiet
        for raw in batches.pop(0):
            yield raw
        raise ConnectionError("the stream broke")

    async def run():
        task = asyncio.ensure_future(feed.run(source, retry_seconds=0.01))
        while len(asked_from) < 3:
            await asyncio.sleep(0.01)
        task.cancel()

    asyncio.run(run())
    assert seen == [("1", 7), ("2", 7), ("3", 8)]
    assert asked_from == [None, "2", "3"]
    unsubscribe()
    feed.feed({"id": 4, "type": "x", "contract_id": 1})
    assert len(seen) == 3


def test_a_reloaded_paged_table_asks_for_each_page_once_in_order():
    """Reloading a table scrolled down several pages (a change came) starts again from the
    first page and goes on in order: no row skipped, none twice (a row key twice is an
    error that would end the worker)."""
    from types import SimpleNamespace

    from textual.app import App

    from bgshared.api.views import Page
    from bgtui.widgets.paged_table import PagedTable

    rows = [SimpleNamespace(id=n) for n in range(1, 101)]
    asked: list[str | None] = []

    async def load(cursor):
        asked.append(cursor)
        await asyncio.sleep(0.01)
        start = int(cursor or 0)
        end = start + 20
        return Page(items=rows[start:end], next_cursor=str(end) if end < len(rows) else None)

    class Host(App):
        def compose(self):
            yield PagedTable([("col.id", 5)], id="t")

    async def run():
        app = Host()
        async with app.run_test(size=(40, 12)) as pilot:
            table = app.query_one(PagedTable)
            table.set_source(load, lambda item: [str(item.id)])
            for _ in range(3):  # down to the third page
                await pilot.pause(0.1)
                table.move_cursor(row=table.row_count - 1)
            await pilot.pause(0.2)
            before = [item.id for item in table.items]
            asked.clear()
            table.reload(keep_cursor=True)
            await pilot.pause(0.3)
            return before, [item.id for item in table.items], asked, table.row_count

    before, after, asked_again, shown = asyncio.run(run())
    assert len(before) >= 60
    assert after == list(range(1, len(after) + 1)) and shown == len(after)
    assert asked_again[0] is None and len(asked_again) == len(set(asked_again))
