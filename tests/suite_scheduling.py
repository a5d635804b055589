"""How ``pytest -n N --dist loadfile`` shares out the suite: by file, except that the files using one costly
session fixture go to the same worker, which then makes that fixture once instead of once per worker."""

from __future__ import annotations

# "FILE::FIXTURE" of each shared fixture, and the test files that use it.
SHARED_SESSION_FIXTURES = {
    # a Ray prepare job over the broken set
    "tests/data/conftest.py::prepared": (
        "tests/data/test_prepare.py",
        "tests/data/test_prepared.py",
        "tests/data/test_prepare_faults.py",
    ),
    # `viclip convert --verify` of the tiny checkpoint, with its remote-code check in a fresh interpreter
    "tests/conftest.py::converted_tiny": (
        "tests/conversion/test_convert_tiny.py",
        "tests/conversion/test_layouts_and_sizes.py",
        "tests/conversion/test_weights_and_card.py",
        "tests/hub/test_model_card.py",
        "tests/hub/test_push.py",
    ),
}
_GROUP_OF_FILE = {
    file: f"[{fixture}]" for fixture, files in SHARED_SESSION_FIXTURES.items() for file in files
}


def work_unit(nodeid: str) -> str:
    """The unit of work a test belongs to: its file, or the group of files sharing its costly fixture."""
    file = nodeid.split("::", 1)[0]
    return _GROUP_OF_FILE.get(file, file)


def make_scheduler(config, log):
    """xdist's ``loadfile`` scheduler with :func:`work_unit` as its scope."""
    from xdist.scheduler import LoadFileScheduling

    class SharedFixtureScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    return SharedFixtureScheduling(config, log)
