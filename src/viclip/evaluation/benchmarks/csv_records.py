"""The records of a benchmark's official CSV file, with its header checked first."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from ...data.text_files import read_utf8


def read_csv_records(path: Path, required: Sequence[str], what: str, expected: str) -> list[tuple[int, dict]]:
    """``(line number, record)`` for every row of ``path`` (header names stripped of spaces).

    Raises:
        ValueError: the header lacks a ``required`` column, naming the file, ``what`` it should be and the
            ``expected`` header; or the file is not UTF-8 (naming the line).
    """
    reader = csv.DictReader(io.StringIO(read_utf8(path), newline=""))
    columns = [c.strip() for c in reader.fieldnames or []]
    missing = [c for c in required if c not in columns]
    if missing:
        raise ValueError(
            f"{path}: not {what}: no column(s) {missing} in the header {columns} (expected {expected})"
        )
    reader.fieldnames = columns
    return list(enumerate(reader, start=2))
