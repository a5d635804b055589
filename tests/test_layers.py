"""The house plan: each subpackage imports only the layers below it, and the library never imports the commands."""

from __future__ import annotations

import ast
from pathlib import Path

import viclip

PACKAGE = Path(viclip.__file__).parent

# subpackage -> the subpackages it may import (the root's helpers _lazy, _registration, errors and version are
# open to all). The order is the architecture: modeling -> processing -> hub / data / conversion -> inference ->
# evaluation / embedding / scoring (none imports another) -> training -> classification -> demo -> commands.
ALLOWED: dict[str, set[str]] = {
    "modeling": set(),
    "processing": {"modeling"},
    "hub": {"modeling", "processing"},
    "data": {"modeling", "processing"},
    "conversion": {"modeling", "processing", "hub"},
    "inference": {"modeling", "processing", "data"},
    "evaluation": {"modeling", "processing", "data", "inference"},
    "training": {"modeling", "processing", "data", "hub", "inference", "evaluation"},
    "classification": {"modeling", "processing", "data", "hub", "inference", "evaluation", "training"},
    "embedding": {"modeling", "processing", "data", "inference"},
    "scoring": {"modeling", "processing", "data", "inference"},
    "demo": {"modeling", "processing", "data", "hub", "conversion", "inference", "evaluation", "training"},
}
ROOT_INTERNALS = {"_lazy", "_registration", "errors", "version"}


def _imported_subpackages(path: Path) -> set[str]:
    """The ``viclip.<name>`` subpackages a module imports (relative imports resolved)."""
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    package = parts[:-1]  # a module's package; for __init__.py, the package itself
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                names = (
                    [".".join([*base, node.module])]
                    if node.module
                    else [".".join([*base, a.name]) for a in node.names]
                )
            else:
                names = [node.module or ""]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            pieces = name.split(".")
            if pieces[0] == "viclip":
                found.add(pieces[1] if len(pieces) > 1 else "<root>")
            elif pieces[0] == "viclip_cli":
                found.add("<commands>")
    return found


def _layer(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0].removesuffix(".py") if len(relative.parts) > 1 else relative.stem


def test_every_subpackage_imports_only_the_layers_below_it():
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        layer = _layer(path)
        if layer not in ALLOWED:
            continue
        used = _imported_subpackages(path) - {layer} - ROOT_INTERNALS
        wrong = sorted(used - ALLOWED[layer])
        if wrong:
            problems.append(f"{path.relative_to(PACKAGE)} ({layer}) imports {wrong}")
    assert not problems, "\n".join(problems)


def test_the_library_never_imports_the_command_layer_or_the_root():
    """The command line is the top-level ``viclip_cli`` package; only ``python -m viclip`` and ``-m viclip.train``
    (the two launchers) import it."""
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in sorted(PACKAGE.rglob("*.py"))
        if _layer(path) not in {"__main__", "train"}
        and path != PACKAGE / "__init__.py"
        and _imported_subpackages(path) & {"<commands>", "<root>"}
    ]
    assert not offenders


def test_every_subpackage_is_placed_in_the_plan():
    subpackages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert subpackages == set(ALLOWED) - {"demo"}
