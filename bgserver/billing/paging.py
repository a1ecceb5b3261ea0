"""Lists come in pages, ``{"items": [...], "next_cursor": ...}``, by id: one row more than
the page is read to know whether another page follows."""

from __future__ import annotations

from typing import Any

MAX_PAGE = 500


def page_size(limit: int) -> int:
    return max(1, min(limit, MAX_PAGE))


def page(rows: list[dict[str, Any]], size: int) -> dict[str, Any]:
    """``rows`` as read with ``size + 1``: the page, and the cursor to the next one."""
    items = rows[:size]
    return {"items": items, "next_cursor": str(items[-1]["id"]) if len(rows) > size else None}
