"""The suite's own scheduling (tests/suite_scheduling.py): every file using a shared costly fixture is in its group,
so that no worker makes the fixture a second time."""

from __future__ import annotations

import inspect
from collections import defaultdict
from pathlib import Path

from suite_scheduling import SHARED_SESSION_FIXTURES, work_unit


def _fixtures_used(item, root: Path) -> set[str]:
    """Every fixture a collected test uses, as ``FILE::NAME`` with FILE relative to the root (as in node ids)."""
    info = getattr(item, "_fixtureinfo", None)
    used = set()
    for name, definitions in info.name2fixturedefs.items() if info else ():
        source = Path(inspect.getsourcefile(definitions[-1].func)).resolve()
        if source.is_relative_to(root):
            used.add(f"{source.relative_to(root).as_posix()}::{name}")
    return used


def test_every_file_using_a_shared_session_fixture_is_in_its_group(request):
    root = Path(request.config.rootpath).resolve()
    users = defaultdict(set)
    for item in request.session.items:
        for fixture in SHARED_SESSION_FIXTURES.keys() & _fixtures_used(item, root):
            users[fixture].add(item.nodeid.split("::", 1)[0])
    for fixture, files in SHARED_SESSION_FIXTURES.items():
        assert users[fixture] <= set(files), (
            f"add these files to the {fixture} group: {users[fixture] - set(files)}"
        )


def test_a_grouped_file_shares_its_work_unit_and_the_others_keep_their_own():
    first, *others = SHARED_SESSION_FIXTURES["tests/data/conftest.py::prepared"]
    assert {work_unit(f"{path}::test_x") for path in [first, *others]} == {work_unit(f"{first}::test_y[a]")}
    assert work_unit("tests/test_layers.py::test_x") == "tests/test_layers.py"
