"""Every ``configs/...`` path that the README, the package's docstrings or the examples name exists (issue 11 #13:
`training/train.py` named a ``configs/accelerate/ddp.yaml`` that was never there)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG_PATH = re.compile(r"(?<![\w/.-])((?:src/viclip/training/)?configs/[\w./-]*\w)")
DOCUMENTS = [
    ROOT / "README.md",
    *sorted((ROOT / "src" / "viclip").rglob("*.py")),
    *sorted((ROOT / "examples").glob("*.py")),
]


def named_config_paths() -> list[tuple[str, str]]:
    found = []
    for document in DOCUMENTS:
        for match in CONFIG_PATH.finditer(document.read_text(encoding="utf-8")):
            found.append((str(document.relative_to(ROOT)), match.group(1)))
    return found


def test_the_documents_name_config_paths():
    assert any(path.startswith("configs/accelerate/") for _, path in named_config_paths())


@pytest.mark.parametrize(("document", "path"), named_config_paths())
def test_named_config_path_exists(document, path):
    assert (ROOT / path).exists(), f"{document} names {path}, which does not exist"
