"""bgloader's spool: every waiting file goes to its source, then to done/ or failed/."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest_twisted

from bgserver.loader.service import LoaderService, Source


@pytest_twisted.ensureDeferred
async def test_files_are_loaded_oldest_first_and_moved(tmp_path, clock):
    loaded = []

    async def count_lines(path: Path, context):
        if "broken" in path.name:
            raise ValueError("not a detail file")
        loaded.append(path.name)
        return {"stored": len(path.read_text().splitlines())}

    context = SimpleNamespace(clock=clock)
    service = LoaderService(context, [Source("radius", count_lines)], tmp_path / "spool")
    service.startService()
    service._loop.stop()
    spool = tmp_path / "spool" / "radius"
    for age, name in ((30, "detail-2"), (60, "detail-1"), (10, "broken-3")):
        (spool / name).write_text("a\nb\n")
        os.utime(spool / name, (1_700_000_000 - age, 1_700_000_000 - age))
    (spool / ".partial").write_text("still being written")
    assert await service.scan() == 2
    assert loaded == ["detail-1", "detail-2"]
    assert sorted(p.name for p in (spool / "done").iterdir()) == ["detail-1", "detail-2"]
    assert [p.name for p in (spool / "failed").iterdir()] == ["broken-3"]
    assert [p.name for p in spool.iterdir() if p.is_file()] == [".partial"]
