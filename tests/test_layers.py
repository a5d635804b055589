"""The house plan: each subpackage imports only the layers below it, and the library never imports the commands."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import viclip

PACKAGE = Path(viclip.__file__).parent

# The layers in order: each imports only layers before it. evaluation, embedding and scoring stand side by side
# (none imports another), all three on inference. The layout table of docs/design.md lists them in this order.
ORDER = [
    "modeling", "processing", "hub", "data", "conversion", "inference", "evaluation", "embedding", "scoring",
    "training", "classification", "demo", "serving",
]  # fmt: skip
# layer -> the layers it imports: exactly the arrows the code has (a new arrow is a change of the plan, made here).
ALLOWED: dict[str, set[str]] = {
    "modeling": set(),
    "processing": set(),
    "hub": set(),
    "data": {"modeling", "processing"},
    "conversion": {"modeling", "processing", "hub"},
    "inference": {"modeling", "processing", "data"},
    "evaluation": {"processing", "data", "inference"},
    "embedding": {"processing", "data", "inference"},
    "scoring": {"modeling", "processing", "data", "inference"},
    "training": {"modeling", "processing", "data", "hub", "evaluation"},
    "classification": {"modeling", "processing", "data", "hub", "evaluation", "training"},
    "demo": {"processing", "data", "hub", "conversion", "inference", "evaluation", "training"},
    "serving": {"processing", "inference", "embedding"},
}
# The root's modules that every layer may import: they import no layer themselves (errors only the import-free
# processing/errors.py, which Hub folders carry as remote code). _registration is the package root's alone.
ROOT_INTERNALS = {"_lazy", "errors", "version"}
ROOT_INTERNAL_IMPORTS = {"_lazy": set(), "version": set(), "errors": {"viclip.processing.errors"}}


def _imported_modules(path: Path) -> set[str]:
    """The absolute names of the modules ``path`` imports (relative imports resolved)."""
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    package = parts[:-1]  # a module's package; for __init__.py, the package itself
    found: set[str] = set()
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
        found.update(names)
    return found


def _imported_subpackages(path: Path) -> set[str]:
    """The ``viclip.<name>`` subpackages a module imports; ``<root>`` for ``viclip`` itself, ``<commands>`` for
    ``viclip_cli``."""
    found = set()
    for name in _imported_modules(path):
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


def test_the_plan_has_exactly_the_arrows_of_the_code_and_none_points_up():
    used: dict[str, set[str]] = {layer: set() for layer in ALLOWED}
    for path in PACKAGE.rglob("*.py"):
        if _layer(path) in used:
            used[_layer(path)] |= _imported_subpackages(path) - {_layer(path)} - ROOT_INTERNALS
    unused = {
        layer: sorted(ALLOWED[layer] - used[layer]) for layer in ALLOWED if ALLOWED[layer] - used[layer]
    }
    assert not unused, f"arrows of the plan that no module has (remove them from ALLOWED): {unused}"
    upward = {
        layer: sorted(a for a in ALLOWED[layer] if ORDER.index(a) > ORDER.index(layer)) for layer in ALLOWED
    }
    assert not any(upward.values()), upward
    assert sorted(ORDER) == sorted(ALLOWED)


def test_the_root_helpers_open_to_every_layer_import_no_layer():
    for name, expected in ROOT_INTERNAL_IMPORTS.items():
        imported = {m for m in _imported_modules(PACKAGE / f"{name}.py") if m.split(".")[0] == "viclip"}
        assert imported == expected, name
    assert not {m for m in _imported_modules(PACKAGE / "processing" / "errors.py") if m.startswith("viclip")}


def test_the_library_never_imports_the_command_layer_or_the_root():
    """The command line is the top-level ``viclip_cli`` package; only ``python -m viclip`` (``__main__``) imports
    it."""
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in sorted(PACKAGE.rglob("*.py"))
        if _layer(path) != "__main__"
        and path != PACKAGE / "__init__.py"
        and _imported_subpackages(path) & {"<commands>", "<root>"}
    ]
    assert not offenders


def test_every_subpackage_is_placed_in_the_plan():
    subpackages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert subpackages == set(ALLOWED) - {"demo"}


def test_the_layout_table_lists_the_layers_in_the_plans_order():
    design = (PACKAGE.parents[1] / "docs" / "design.md").read_text(encoding="utf-8")
    table = design[design.index("## Layout") :]
    rows = re.findall(r"^\| `viclip/(\w+)(?:/|\.py)` \|", table, flags=re.MULTILINE)
    assert rows == ORDER
