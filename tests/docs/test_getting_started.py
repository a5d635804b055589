"""docs/getting-started.md tells the truth: its table of which command needs which extra is the code's
(each command module's ``EXTRA`` and ``FLAG_EXTRAS``), and its set-up commands are the README's."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from snippet_runner import read_blocks

from viclip_cli import COMMANDS

REPO = Path(__file__).parents[2]
PAGE = (REPO / "docs" / "getting-started.md").read_text()


def extras_of(module) -> str:
    """How the page names what a command needs: ``core`` or the pip spec of its extras."""
    extras = module.EXTRA if isinstance(module.EXTRA, tuple) else (module.EXTRA,) if module.EXTRA else ()
    return f"`viclip[{','.join(extras)}]`" if extras else "core"


def flag_extras_of(module) -> str:
    flags = getattr(module, "FLAG_EXTRAS", {})
    return "; ".join(f"`--{flag.replace('_', '-')}`: `viclip[{extra}]`" for flag, (extra, _) in flags.items())


def expected_rows() -> list[tuple[str, str, str]]:
    rows = []
    for path, module_name in COMMANDS.items():
        module = importlib.import_module(module_name)
        rows.append((f"`viclip {' '.join(path)}`", extras_of(module), flag_extras_of(module)))
    return rows


def page_rows() -> list[tuple[str, str, str]]:
    section = PAGE[PAGE.index("## Which command needs which extra") :]
    rows = re.findall(r"^\| (`viclip [^`]+`) \| ([^|]+?) \| ([^|]*?) ?\|$", section, flags=re.MULTILINE)
    return [(command, needs, flags.strip()) for command, needs, flags in rows]


def test_extras_table_lists_every_command_with_the_extras_its_module_declares():
    assert page_rows() == expected_rows()


def test_set_up_commands_are_the_readmes():
    def commands(text: str, where: str) -> list[str]:
        return [
            line.split("#")[0].strip()
            for block in read_blocks(text, where)
            if block.language == "bash"
            for line in block.source.splitlines()
            if line.strip().startswith("make ")
        ]

    readme = (REPO / "README.md").read_text()
    assert (
        commands(PAGE, "docs/getting-started.md")
        == commands(readme, "README.md")
        == ["make demo", "make test"]
    )
