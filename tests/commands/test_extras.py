"""A command whose extra is not installed says so in one line, before any work (issue 33): each extra's modules
are hidden in a fresh interpreter (``sys.modules[name] = None``, as if never installed) and every command runs."""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

from viclip_cli import COMMANDS
from viclip_cli.base import EXTRA_MODULES, build_parser

ROOT = Path(__file__).resolve().parents[2]

# Each command's ``run`` is replaced by a stub: the check under test happens before it, and a command whose extras
# are present must not do its work here (it would write into the working folder and take minutes).
RUN_ALL = """
import contextlib, importlib, io, json, sys
for name in sys.argv[1].split(","):
    sys.modules[name] = None
from viclip_cli import COMMANDS, main
for module_name in COMMANDS.values():
    importlib.import_module(module_name).run = lambda args: 0
results = {}
for key, argv in json.loads(sys.argv[2]):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as exit:
            code = exit.code
    results[key] = [code, err.getvalue()]
print(json.dumps(results))
"""


def _minimal_argv(path: tuple[str, ...]) -> list[str]:
    """The command with a placeholder for each required argument (nothing it names exists)."""
    parser = build_parser()
    sub = parser
    for word in path:
        action = next(a for a in sub._actions if a.choices and word in a.choices)
        sub = action.choices[word]
    argv = list(path)
    for action in sub._actions:
        if not action.required:
            continue
        value = next(iter(action.choices)) if action.choices else "missing-input"
        argv += [value] if not action.option_strings else [action.option_strings[0], value]
    return argv


def _extras_of(module_name: str) -> tuple[str, ...]:
    extra = importlib.import_module(module_name).EXTRA
    return extra if isinstance(extra, tuple) else (extra,) if extra else ()


@pytest.fixture(scope="module")
def argvs() -> dict[tuple[str, ...], list[str]]:
    return {path: _minimal_argv(path) for path in COMMANDS}


def _run_hiding(modules, argvs, cwd: Path) -> dict[str, list]:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            RUN_ALL,
            ",".join(modules),
            json.dumps([[" ".join(p), a] for p, a in argvs.items()]),
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=cwd,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("extra", sorted(set(EXTRA_MODULES) - {"tensorboard"}))
def test_every_command_names_the_missing_extra_in_one_line(extra, argvs, tmp_path):
    hidden = set(EXTRA_MODULES[extra])
    results = _run_hiding(sorted(hidden), argvs, tmp_path)
    for path, module_name in COMMANDS.items():
        code, stderr = results[" ".join(path)]
        lacking = [e for e in _extras_of(module_name) if hidden & set(EXTRA_MODULES[e])]
        if lacking:
            prog = "viclip " + " ".join(path)
            assert code == 2, (path, stderr)
            assert stderr.count("\n") == 1 and stderr.startswith(f"{prog}: error: this command needs the ")
            assert f"pip install 'viclip[{','.join(lacking)}]'" in stderr
        else:
            assert (code, stderr) == (0, ""), path


def test_a_command_needing_two_extras_names_both(argvs, tmp_path):
    results = _run_hiding(["accelerate", "evaluate"], argvs, tmp_path)
    code, stderr = results["demo"]
    assert code == 2
    assert "needs the 'train' and 'eval' extras (accelerate, evaluate not installed)" in stderr
    assert stderr.rstrip().endswith("pip install 'viclip[train,eval]'")


def test_the_extra_check_comes_before_any_work(tmp_path, video_dir):
    output = tmp_path / "embeddings"
    argv = ["embed", "--inputs", str(video_dir), "--model", "missing-model", "--output-dir", str(output)]
    results = _run_hiding(["faiss"], {("embed",): argv}, tmp_path)
    assert results["embed"][0] == 2
    assert not output.exists()


def _requirement_names(extras: dict[str, list[str]], extra: str) -> set[str]:
    names = set()
    for requirement in extras[extra]:
        name = re.split(r"[\[<>=~! ;]", requirement, maxsplit=1)[0]
        if name == "viclip":
            inner = re.search(r"\[(.*)\]", requirement).group(1)
            for other in inner.split(","):
                names |= _requirement_names(extras, other.strip())
        else:
            names.add(name.lower().replace("_", "-"))
    return names


def test_the_extras_table_agrees_with_pyproject():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    distributions = importlib.metadata.packages_distributions()
    for extra, modules in EXTRA_MODULES.items():
        installed_by = {d.lower().replace("_", "-") for m in modules for d in distributions.get(m, [m])}
        assert installed_by == _requirement_names(extras, extra), extra


def test_every_command_declares_its_extras():
    for module_name in COMMANDS.values():
        assert set(_extras_of(module_name)) <= set(EXTRA_MODULES), module_name


@pytest.mark.parametrize(
    ("hidden", "flags", "expected"),
    [
        ("matplotlib", ["--plot", "scores.png"], "--plot needs the 'eval' extra (matplotlib not installed): "
         "pip install 'viclip[eval]'"),
        ("pyarrow", ["--output-dir", "scored"], "--output-dir needs the 'data' extra (pyarrow not installed): "
         "pip install 'viclip[data]'"),
    ],
)  # fmt: skip
def test_a_flag_needing_an_extra_the_command_does_not_names_it_before_any_work(
    hidden, flags, expected, tmp_path
):
    argv = ["score", "--inputs", "clips.csv", "--model", "missing-model", *flags]
    results = _run_hiding([hidden], {("score",): argv, ("score", "plain"): argv[:5]}, tmp_path)
    assert results["score"] == [2, f"viclip score: error: {expected}\n"]
    assert results["score plain"] == [0, ""]  # without the flag the core install is enough
    assert not any(tmp_path.iterdir())
