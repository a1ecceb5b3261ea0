"""A table that loads its rows a page at a time as the operator scrolls, and filters what
it holds with ``/``.

The owner hands it a ``load(cursor)`` coroutine answering a ``Page`` and a ``row(item)``
answering the cells. Each (re)load starts a generation: an answer of an older generation
is dropped, so a slow old page never lands in a newer list.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Awaitable, Callable, Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Input, Static

from bgshared.api.views import Page
from bgtui.i18n import t, translate_bindings

Loader = Callable[[str | None], Awaitable[Page]]
RowMaker = Callable[[Any], Sequence[Any]]

#: Load the next page when the cursor is this close to the last row.
AHEAD = 10


class PagedTable(DataTable):
    class Loaded(Message):
        """A page arrived (the first of a reload, or one more)."""

        def __init__(self, table: "PagedTable", first: bool):
            super().__init__()
            self.table = table
            self.first = first

        @property
        def control(self) -> "PagedTable":
            return self.table

    def __init__(self, columns: Sequence[tuple[str, int | None]] = (), **kwargs: Any):
        kwargs.setdefault("cursor_type", "row")
        kwargs.setdefault("zebra_stripes", True)
        super().__init__(**kwargs)
        self._columns = list(columns)
        self._load: Loader | None = None
        self._row: RowMaker | None = None
        self.items: list[Any] = []
        #: The row keys of :attr:`items` (an item comes once, whatever the pages say).
        self._keys: set[str] = set()
        self.next_cursor: str | None = None
        self.generation = 0
        self.filter_text = ""
        self.loading_more = False
        self.exhausted = True

    def on_mount(self) -> None:
        for title, width in self._columns:
            self.add_column(t(title), width=width, key=title)

    def set_source(self, load: Loader, row: RowMaker) -> None:
        self._load, self._row = load, row
        self.reload()

    def reload(self, keep_cursor: bool = False) -> None:
        """Start again from the first page (a newer search, a change on the server)."""
        self.generation += 1
        self._fetch(self.generation, None, keep_cursor)

    def _fetch(self, generation: int, cursor: str | None, keep_cursor: bool = False) -> None:
        self.loading_more = True
        # The coroutine is made when the worker starts: one cancelled before (a newer
        # reload came at once) leaves no coroutine never awaited behind.
        self.run_worker(partial(self._page, generation, cursor, keep_cursor), group="page",
                        exclusive=cursor is None)

    async def _page(self, generation: int, cursor: str | None, keep_cursor: bool) -> None:
        try:
            page = await self._load(cursor)
        except Exception as exc:  # noqa: BLE001 - said plainly, the table stays usable
            if generation == self.generation:
                self.loading_more = False
            self.app.complain(exc)
            return
        if generation != self.generation or not self.is_attached:
            return  # an answer to an older question, or for a screen now closed
        # Clearing and adding rows moves the cursor and the scroll, whose watchers ask for
        # the next page: ``loading_more`` stays set until the page is in, so that they
        # never ask again for a page with the cursor of the one that just came.
        first = cursor is None
        if first:
            row = self.cursor_row
            self.items = []
            self._keys = set()
            self.clear()
        fresh = [item for item in page.items if self._key(item) not in self._keys]
        self._keys.update(self._key(item) for item in fresh)
        self.items.extend(fresh)
        self.next_cursor = page.next_cursor
        self.exhausted = page.next_cursor is None
        for item in fresh:
            self._add(item)
        self.loading_more = False
        if first and keep_cursor and self.row_count:
            self.move_cursor(row=min(row, self.row_count - 1))
        self.post_message(self.Loaded(self, first))

    @staticmethod
    def _key(item: Any) -> str:
        """An item's ``row_key`` where it has one (ids of several tables in one list),
        else its id."""
        return str(getattr(item, "row_key", None) or getattr(item, "id", id(item)))

    def _add(self, item: Any) -> None:
        cells = list(self._row(item))
        if self.filter_text and not any(self.filter_text in str(c).lower() for c in cells):
            return
        self.add_row(*cells, key=self._key(item))

    def load_more(self) -> None:
        if not self.exhausted and not self.loading_more and self._load is not None:
            self._fetch(self.generation, self.next_cursor)

    def filter(self, text: str) -> None:
        """Show only the rows holding ``text`` (any case) among those loaded."""
        self.filter_text = text.strip().lower()
        self.clear()
        for item in self.items:
            self._add(item)

    def replace_item(self, item: Any) -> None:
        """A row's thing changed on the server: show the new one in place."""
        key = self._key(item)
        for index, old in enumerate(self.items):
            if self._key(old) == key:
                self.items[index] = item
                if key in self.rows:
                    for column, value in zip(self.columns, self._row(item)):
                        self.update_cell(key, column, value)
                return

    def item_at_cursor(self) -> Any | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return next((i for i in self.items if self._key(i) == key), None)

    def watch_cursor_coordinate(self, old: Any, new: Any) -> None:
        super().watch_cursor_coordinate(old, new)
        if new.row >= self.row_count - AHEAD:
            self.load_more()

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if new >= self.max_scroll_y - 2:
            self.load_more()


def amount_cell(text: str) -> Text:
    return Text(text, justify="right")


class FilteredTable(Vertical):
    """A :class:`PagedTable` with the ``/`` filter line above it."""

    BINDINGS = [Binding("slash", "filter", "app.filter")]

    def __init__(self, table: PagedTable, **kwargs: Any):
        super().__init__(**kwargs)
        self.table = table
        translate_bindings(self)

    def compose(self) -> ComposeResult:
        line = Input(placeholder="/", classes="filter-line")
        line.display = False
        yield line
        yield self.table
        yield Static("", classes="table-empty")

    def action_filter(self) -> None:
        line = self.query_one(".filter-line", Input)
        line.display = True
        line.focus()

    @on(Input.Changed, ".filter-line")
    def _filter(self, event: Input.Changed) -> None:
        event.stop()
        self.table.filter(event.value)

    @on(Input.Submitted, ".filter-line")
    def _done(self, event: Input.Submitted) -> None:
        event.stop()
        if not event.value:
            event.input.display = False
        self.table.focus()
