"""A full output disk stops a job with one line: the folder, what failed, and the bytes needed when known.

A write that fails for lack of space (ENOSPC), a quota (EDQUOT) or a file-size limit (EFBIG) fails every write
after it too: the jobs stop at the first one instead of marking every remaining clip failed. Files are written
under a temporary name and renamed, so nothing partial is left; a rerun after space is freed resumes.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Callable, Iterator

from ..errors import ViCLIPError

DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
# How other programs (yt-dlp, FFmpeg) report them: the C library's messages.
DISK_FULL_MESSAGES = tuple(os.strerror(code) for code in sorted(DISK_FULL_ERRNOS))


class DiskFullError(ViCLIPError, RuntimeError):
    """A write into the output folder failed for lack of space, quota or file size (the job stops; rerun it)."""


def is_disk_full(error: BaseException) -> bool:
    return isinstance(error, OSError) and error.errno in DISK_FULL_ERRNOS


def mentions_disk_full(text: str) -> bool:
    """Whether another program's error output says a write failed for lack of space, quota or file size."""
    return any(message in text for message in DISK_FULL_MESSAGES)


def disk_full_error(folder: str | os.PathLike, cause: str, needed: int | None = None) -> DiskFullError:
    """``{folder}: the disk is full ({cause}); about N bytes needed; free space and rerun ...``."""
    need = f"; the file needs about {needed} bytes" if needed else ""
    return DiskFullError(
        f"{folder}: cannot write ({cause}){need}; free space and rerun the same command: finished work is kept"
    )


@contextlib.contextmanager
def stop_on_full_disk(
    folder: str | os.PathLike, needed: Callable[[], int] | None = None, writing: str | None = None
) -> Iterator[None]:
    """Turn an ENOSPC/EDQUOT/EFBIG ``OSError`` raised in the block into a :class:`DiskFullError` naming ``folder``
    (and ``writing``, the file being written, else the error's own file name); ``needed()``, called only then,
    gives the bytes the write needed."""
    try:
        yield
    except OSError as error:
        if not is_disk_full(error):
            raise
        name = writing or (os.path.basename(error.filename) if error.filename else None)
        cause = os.strerror(error.errno) + (f" writing {name}" if name else "")
        raise disk_full_error(folder, cause, needed() if needed else None) from None
