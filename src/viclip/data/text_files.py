"""Reading a text file the user named (a clip list, a CSV, a class list): an encoding error names the file, the
line and the byte, not only the codec's offset."""

from __future__ import annotations

import os
from pathlib import Path


def read_utf8(path: str | os.PathLike) -> str:
    """The text of ``path`` (UTF-8; a leading byte-order mark is dropped, newlines are kept as they are).

    Raises:
        ValueError: the file is not UTF-8: ``"{path}:{line}: not UTF-8 text (byte 0xff at column 7); ..."``.
    """
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line_start = data.rfind(b"\n", 0, error.start) + 1
        line = data.count(b"\n", 0, error.start) + 1
        raise ValueError(
            f"{path}:{line}: not UTF-8 text (byte 0x{data[error.start]:02x} at column "
            f"{error.start - line_start + 1}); save the file as UTF-8"
        ) from None
