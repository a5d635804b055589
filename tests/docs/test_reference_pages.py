"""The reference pages cover the code: the API reference documents every public name, and the errors page lists
every error class of the library."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

REPO = Path(__file__).parents[2]
SRC = REPO / "src"
API = REPO / "docs" / "api"
# The packages whose ``__all__`` is the public API (their ``__init__`` imports lazily: this stays cheap).
PUBLIC_PACKAGES = [
    "viclip", "viclip.modeling", "viclip.processing", "viclip.hub", "viclip.data", "viclip.conversion",
    "viclip.inference", "viclip.evaluation", "viclip.embedding", "viclip.scoring", "viclip.training",
    "viclip.classification", "viclip.serving",
]  # fmt: skip


def documented() -> dict[str, str]:
    """name -> the ``::: module.name`` directive of docs/api/ that documents it."""
    directives = re.findall(r"^::: ([\w.]+)$", "".join(p.read_text() for p in API.glob("*.md")), flags=re.M)
    return {directive.rsplit(".", 1)[1]: directive for directive in directives}


def top_level_names(module: str) -> set[str]:
    """The classes, functions and assignments at the top of a module's source."""
    tree = ast.parse((SRC / Path(*module.split("."))).with_suffix(".py").read_text(encoding="utf-8"))
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


@pytest.mark.parametrize("package", PUBLIC_PACKAGES)
def test_api_reference_documents_every_public_name_where_it_is_defined(package):
    pages = documented()
    missing = [name for name in importlib.import_module(package).__all__ if name not in pages]
    assert not missing, f"docs/api/ has no `::: ...` entry for {package}: {missing}"
    misplaced = [
        pages[name]
        for name in importlib.import_module(package).__all__
        if name not in top_level_names(pages[name].rsplit(".", 1)[0])
    ]
    assert not misplaced, f"these entries name a module that does not define them: {misplaced}"


def test_errors_page_lists_every_error_class_of_the_library():
    page = (REPO / "docs" / "errors.md").read_text()
    classes = {
        node.name
        for path in (SRC / "viclip").rglob("*.py")
        for node in ast.parse(path.read_text(encoding="utf-8")).body
        if isinstance(node, ast.ClassDef)
        and not node.name.startswith("_")
        and re.search(r"(Error|Timeout)$", node.name)
    }
    assert len(classes) >= 15
    assert sorted(name for name in classes if not re.search(rf"`[\w.]*\b{name}`", page)) == []
