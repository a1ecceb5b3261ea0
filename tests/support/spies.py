"""Watching the real parts at work, without standing in for them."""

from __future__ import annotations


def count_units(database, monkeypatch) -> list[str]:
    """The names of the units of work ``database`` runs from now on (it still runs them),
    each put in the list once the unit has ended (committed or failed), so that a name in
    the list means its work is done, not merely asked for."""
    names: list[str] = []
    run = database.run

    def counted(name, *args, **kwargs):
        def ended(result):
            names.append(name)
            return result
        return run(name, *args, **kwargs).addBoth(ended)
    monkeypatch.setattr(database, "run", counted)
    return names
