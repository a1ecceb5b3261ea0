"""The views an operator can jump to with ``:name``: one registry, extended by each area.

A view names the permission it needs to be seen; the command line, its completion and the
command palette offer only those the operator holds. A new area (tariffs, scheduler
tasks, a module type's screens) adds itself with :func:`register` when its module is
imported from ``bgtui/screens/__init__.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from textual.screen import Screen


@dataclass(frozen=True)
class View:
    #: What follows ``:`` (``contracts``).
    name: str
    #: Catalogue key of its title.
    title: str
    #: The permission needed to see it; None: any operator.
    permission: str | None
    make: Callable[[], Screen]


VIEWS: dict[str, View] = {}


def register(name: str, title: str, permission: str | None
             ) -> Callable[[Callable[[], Screen]], Callable[[], Screen]]:
    """Decorate a screen class (or factory) as the view ``:name``."""

    def decorate(make: Callable[[], Screen]) -> Callable[[], Screen]:
        VIEWS[name] = View(name, title, permission, make)
        return make

    return decorate
