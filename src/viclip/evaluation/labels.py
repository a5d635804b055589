"""Candidate labels from the command line or a label file."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ..data.text_files import read_utf8


def read_label_file(path: str | os.PathLike) -> list[str]:
    """One label per line; blank lines and ``#`` comment lines are not labels. Duplicates are an error."""
    path = Path(path)
    lines = read_utf8(path).splitlines()
    labels = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    return _unique(labels, str(path))


def parse_labels(text: str) -> list[str]:
    """``"a, b,c"`` -> ``["a", "b", "c"]`` (empty entries dropped; duplicates are an error)."""
    return _unique((name.strip() for name in text.split(",") if name.strip()), "the label list")


def _unique(labels: Iterable[str], where: str) -> list[str]:
    labels = list(labels)
    duplicates = sorted({name for name in labels if labels.count(name) > 1})
    if duplicates:
        raise ValueError(f"{where}: duplicate labels {duplicates}")
    return labels
