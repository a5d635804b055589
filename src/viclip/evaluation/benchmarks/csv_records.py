"""The records of a benchmark's official CSV file, with its header checked first."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from ...data.text_files import read_utf8


def read_csv_records(
    path: Path, required: Sequence[str], what: str, expected: str, non_empty: Sequence[str] = ()
) -> list[tuple[int, dict]]:
    """``(line number, record)`` for every row of ``path`` (header names stripped of spaces; the ``non_empty``
    columns' values too).

    Raises:
        ValueError: the header lacks a ``required`` column, naming the file, ``what`` it should be and the
            ``expected`` header; a ``non_empty`` value is empty (naming the line); there are no rows; or the file
            is not UTF-8 (naming the line).
    """
    reader = csv.DictReader(io.StringIO(read_utf8(path), newline=""))
    columns = [c.strip() for c in reader.fieldnames or []]
    missing = [c for c in required if c not in columns]
    if missing:
        raise ValueError(
            f"{path}: not {what}: no column(s) {missing} in the header {columns} (expected {expected})"
        )
    reader.fieldnames = columns
    records = list(enumerate(reader, start=2))
    for line, record in records:
        values = {name: (record.get(name) or "").strip() for name in non_empty}
        if not all(values.values()):
            raise ValueError(f"{path} line {line}: empty {' or '.join(non_empty)}")
        record.update(values)
    if not records:
        raise ValueError(f"{path}: no rows below the header")
    return records
