"""The views an operator can jump to with ``:name``: one registry, extended by each area.

A view names the permission it needs to be seen; the command line, its completion and the
command palette offer only those the operator holds. A new area (tariffs, scheduler
tasks, a module type's screens) adds itself with :func:`register` when its module is
imported from ``bgtui/screens/__init__.py``; a tab of the contract card likewise with
:func:`card_tab`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

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


@dataclass(frozen=True)
class CardTab:
    """A tab of the contract card added by an area: the kernel's tariff periods, a module
    type's orders, and (with their module types) inet accounts and sessions, voice
    numbers and calls."""
    #: The pane's id (``orders``).
    id: str
    #: Catalogue key of its title.
    title: str
    #: The permission needed to see it; None: whoever sees the card.
    permission: str | None
    #: ``make(card)`` -> the pane's content, a ``bgtui.screens.contract.CardPane``.
    make: Callable[..., Any]
    #: Tabs are shown by this number (the card's own come first).
    order: int


CARD_TABS: dict[str, CardTab] = {}


def card_tab(id: str, title: str, permission: str | None = None, order: int = 50
             ) -> Callable[[Any], Any]:
    """Decorate a ``CardPane`` class as a tab of the contract card."""

    def decorate(make: Any) -> Any:
        CARD_TABS[id] = CardTab(id, title, permission, make, order)
        return make

    return decorate
