"""Which files ``viclip serve`` may send: the index's own videos, looked up by id, inside the video folders.

A client never names a path: it names a row of the index. The row's file is sent only when, with every symlink
resolved, it is still a regular file under the video folders (by default the deepest folder that holds every
indexed file), so a symlink planted in the library that points elsewhere is refused, without ever being opened.
"""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Iterable, Sequence

# Containers a browser plays that mimetypes may not know on a bare system.
_VIDEO_TYPES = {".mp4": "video/mp4", ".m4v": "video/mp4", ".webm": "video/webm", ".mkv": "video/x-matroska",
                ".mov": "video/quicktime", ".ogv": "video/ogg", ".avi": "video/x-msvideo"}  # fmt: skip


class VideoFiles:
    """The files of an index's rows, each checked before it is served."""

    def __init__(self, paths: Sequence[str], roots: Iterable[str | os.PathLike] | None = None):
        self._paths = paths
        if roots is None:
            folders = {os.path.dirname(os.path.abspath(p)) for p in set(paths)}
            roots = [os.path.commonpath(sorted(folders))] if folders else []
        self.roots = [os.path.realpath(root) for root in roots]

    def servable(self, moment_id: int) -> str | None:
        """The resolved file of row ``moment_id`` when it may be sent, else ``None`` (nothing is opened)."""
        if not 0 <= moment_id < len(self._paths):
            return None
        real = os.path.realpath(self._paths[moment_id])
        inside = any(os.path.commonpath([real, root]) == root for root in self.roots)
        return real if inside and os.path.isfile(real) else None


def media_type(path: str) -> str:
    """The ``Content-Type`` of a video file, from its extension."""
    suffix = os.path.splitext(path)[1].lower()
    return _VIDEO_TYPES.get(suffix) or mimetypes.guess_type(path)[0] or "application/octet-stream"
