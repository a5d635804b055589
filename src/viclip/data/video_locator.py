"""Find the video file of an annotation row under a ``video_root`` folder.

Two layouts are accepted, both flat in ``video_root``:

- whole videos ``{YoutubeID}.mp4`` (or any of :data:`~viclip.processing.VIDEO_EXTENSIONS`): the segment
  is read by seeking;
- pre-cut clips ``{YoutubeID}_{start}_{end}.mp4`` with ``start`` and ``end`` the segment's times in
  seconds with three decimals, e.g. ``HdYoyzCSWyw_190.567_191.200.mp4`` (what ``viclip download
  --sections`` writes; see :func:`clip_filename`). The whole clip file is the segment.

A pre-cut clip wins over a whole video when both exist.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..processing import VIDEO_EXTENSIONS, VideoClip


def clip_filename(youtube_id: str, start_sec: float, end_sec: float, ext: str = ".mp4") -> str:
    """File name of a pre-cut clip: ``{YoutubeID}_{start:.3f}_{end:.3f}{ext}``."""
    return f"{youtube_id}_{start_sec:.3f}_{end_sec:.3f}{ext}"


class VideoLocator:
    """Looks rows up in ``video_root`` by file name (a few ``stat`` calls per row, no folder scan).

    Looking up per row, rather than listing the folder once, keeps start-up instant on folders of
    millions of files and sees videos that a running download adds.
    """

    def __init__(self, video_root: str | os.PathLike, extensions: tuple[str, ...] = VIDEO_EXTENSIONS):
        self.video_root = Path(video_root)
        if not self.video_root.is_dir():
            raise FileNotFoundError(f"video_root {str(self.video_root)!r} is not a folder")
        self.extensions = extensions

    def locate(self, youtube_id: str, start_sec: float, end_sec: float) -> VideoClip | None:
        """The row's segment: a pre-cut clip file (read whole: no time range), or the whole video with the
        row's ``start_sec``/``end_sec``; ``None`` when neither exists."""
        clip = self.video_root / clip_filename(youtube_id, start_sec, end_sec)
        if clip.is_file():
            return VideoClip(str(clip))
        for ext in self.extensions:
            whole = self.video_root / f"{youtube_id}{ext}"
            if whole.is_file():
                return VideoClip(str(whole), start_sec, end_sec)
        return None

    def locate_row(self, raw: dict, where: str, unmatched: list[tuple[str, str]]) -> VideoClip | None:
        """The clip of a raw InternVid row; ``None`` (with ``(where, reason)`` appended to ``unmatched``) for a
        malformed row or one whose video is not under ``video_root``."""
        from .annotations import AnnotationError, parse_row

        try:
            row = parse_row(raw)
        except AnnotationError as error:
            unmatched.append((where, str(error)))
            return None
        clip = self.locate(row.youtube_id, row.start_sec, row.end_sec)
        if clip is None:
            unmatched.append((where, f"no video for YoutubeID {row.youtube_id} under {self.video_root}"))
        return clip
