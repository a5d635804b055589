"""``VideoClip``: a video file and an optional time range, the one clip type of the whole library."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Files the library treats as videos when it lists a folder or looks a YouTube id up.
VIDEO_EXTENSIONS: tuple[str, ...] = (".mp4", ".webm", ".mkv", ".m4v", ".mov", ".avi", ".mpg", ".mpeg", ".gif")

_CLIP_KEYS = frozenset({"path", "start_sec", "end_sec"})


@dataclass(frozen=True)
class VideoClip:
    """A video file and an optional ``[start_sec, end_sec)`` range in seconds (``None`` = from the start / to the end).

    Every API that takes a clip (the processor, the pipelines, data, evaluation, search) accepts a ``VideoClip``,
    a path, a ``(path, start_sec, end_sec)`` tuple or a ``{"path", "start_sec", "end_sec"}`` dict:
    see :meth:`coerce`.
    """

    path: str
    start_sec: float | None = None
    end_sec: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.path, (str, os.PathLike)):
            raise TypeError(f"a clip's path must be a str or os.PathLike, got {type(self.path).__name__}")
        object.__setattr__(self, "path", os.fspath(self.path))
        for name in ("start_sec", "end_sec"):
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"{self.path}: {name} must be a number of seconds or None, got {value!r}")
            if not math.isfinite(value):
                raise ValueError(f"{self.path}: {name} is {value}, not a finite number of seconds")
            object.__setattr__(self, name, float(value))
        if self.start_sec is not None and self.start_sec < 0:
            raise ValueError(f"{self.path}: start_sec {self.start_sec:g} is negative")
        if self.start_sec is not None and self.end_sec is not None and self.end_sec <= self.start_sec:
            raise ValueError(
                f"{self.path}: end_sec {self.end_sec:g} is not after start_sec {self.start_sec:g}"
            )

    @classmethod
    def coerce(cls, value: Any) -> VideoClip:
        """A ``VideoClip`` from any accepted spelling; a clear error for anything else (an unknown key included)."""
        if isinstance(value, VideoClip):
            return value
        if isinstance(value, (str, os.PathLike)):
            return cls(value)
        if isinstance(value, Mapping):
            unknown = sorted(set(value) - _CLIP_KEYS)
            if unknown:
                raise ValueError(
                    f"a clip given as a dict takes the keys 'path', 'start_sec' and 'end_sec'; "
                    f"unknown key(s) {unknown} (the time range is spelled start_sec/end_sec)"
                )
            if "path" not in value:
                raise ValueError(f"a clip given as a dict needs a 'path' key, got keys {sorted(value)}")
            return cls(value["path"], value.get("start_sec"), value.get("end_sec"))
        if _is_clip_tuple(value):
            return cls(*value)
        raise TypeError(
            "a clip is a path, a (path, start_sec, end_sec) tuple, a {'path', 'start_sec', 'end_sec'} dict "
            f"or a VideoClip; got {type(value).__name__}"
        )

    @classmethod
    def is_clip_like(cls, value: Any) -> bool:
        """Whether ``value`` is spelled as a clip (a path, a clip tuple or dict), not as decoded frames."""
        return isinstance(value, (VideoClip, str, os.PathLike, Mapping)) or _is_clip_tuple(value)

    def describe(self) -> str:
        """``path`` or ``path [3s-8s]`` for messages and tables."""
        if self.start_sec is None and self.end_sec is None:
            return self.path
        end = "end" if self.end_sec is None else f"{self.end_sec:g}s"
        return f"{self.path} [{self.start_sec or 0:g}s-{end}]"


def _is_clip_tuple(value: Any) -> bool:
    """``(path,)`` or ``(path, start_sec, end_sec)``; a tuple of three paths is a batch, not a clip."""
    if (
        not isinstance(value, tuple)
        or len(value) not in (1, 3)
        or not isinstance(value[0], (str, os.PathLike))
    ):
        return False
    return not any(isinstance(v, (str, os.PathLike)) for v in value[1:])
