"""One JPEG per moment: its middle frame, made on first request and cached in a folder beside the index."""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

from ..processing import read_video_clip

THUMBNAIL_SIZE = 320  # the longer side, in pixels
DECODE_TIMEOUT = 30.0


class Thumbnails:
    """Thumbnails cached in ``folder``, keyed by the moment and the file's size and modification time (a changed
    video gets a new thumbnail)."""

    def __init__(self, folder: str | os.PathLike, size: int = THUMBNAIL_SIZE):
        self.folder = Path(folder)
        self.size = size

    def get(self, path: str, start_sec: float | None, end_sec: float | None) -> Path:
        """The cached JPEG of the middle frame of ``[start_sec, end_sec)`` of ``path`` (made when missing).

        Raises:
            VideoDecodeError: the video cannot be read.
        """
        stat = os.stat(path)
        key = f"{path}|{start_sec}|{end_sec}|{stat.st_size}|{stat.st_mtime_ns}|{self.size}"
        target = self.folder / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.jpg"
        if not target.is_file():
            self._make(path, start_sec, end_sec, target)
        return target

    def _make(self, path: str, start_sec: float | None, end_sec: float | None, target: Path) -> None:
        from PIL import Image

        frames, _ = read_video_clip(path, start_sec, end_sec, num_frames=1, timeout=DECODE_TIMEOUT)
        image = Image.fromarray(frames[0])
        image.thumbnail((self.size, self.size))
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        try:
            image.save(tmp, format="JPEG", quality=85)
            os.replace(tmp, target)  # atomic: concurrent requests for one thumbnail each write whole files
        finally:
            tmp.unlink(missing_ok=True)
