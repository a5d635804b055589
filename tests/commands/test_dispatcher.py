"""The `viclip` dispatcher: one registry, help for every command, answers without importing viclip or torch."""

from __future__ import annotations

import subprocess
import sys

import pytest

from viclip_cli import COMMANDS, GROUP_HELP, main
from viclip_cli.base import build_parser


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for path in COMMANDS:
        assert path[0] in out
    for group in GROUP_HELP:
        assert group in out


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=" ".join)
def test_every_command_has_help_and_a_run(path, capsys):
    import importlib

    module = importlib.import_module(COMMANDS[path])
    assert module.HELP and "\n" not in module.HELP
    assert callable(module.configure) and callable(module.run)
    with pytest.raises(SystemExit) as exit_info:
        main([*path, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: viclip {' '.join(path)}")


def test_unknown_command_is_one_line_with_exit_code_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["frobnicate"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "frobnicate" in err


def test_the_parser_builds_every_registered_command():
    parser = build_parser()
    assert parser.prog == "viclip"


def test_help_and_usage_errors_import_neither_the_library_nor_torch_nor_transformers():
    code = """
import sys
from viclip_cli import main
for argv in (["--help"], ["classify", "--help"], ["classify", "--no-such-flag"], ["evaluate", "retrieval", "--help"]):
    try:
        main(argv)
    except SystemExit:
        pass
heavy = sorted(name for name in ("viclip", "torch", "transformers") if name in sys.modules)
print("HEAVY", heavy)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "HEAVY []" in result.stdout, result.stdout.splitlines()[-1]


def test_python_dash_m_viclip_is_the_viclip_command():
    result = subprocess.run(
        [sys.executable, "-m", "viclip", "classify", "--help"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: viclip classify")
