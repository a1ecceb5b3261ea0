"""Watching the real parts at work, without standing in for them."""

from __future__ import annotations


def count_units(database, monkeypatch) -> list[str]:
    """The names of the units of work ``database`` runs from now on (it still runs them)."""
    names: list[str] = []
    run = database.run

    def counted(name, *args, **kwargs):
        names.append(name)
        return run(name, *args, **kwargs)
    monkeypatch.setattr(database, "run", counted)
    return names
