"""Labelled and captioned video lists (CSV / JSONL) for classification and retrieval: rows of VideoClips."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..processing import VIDEO_EXTENSIONS, VideoClip
from .annotations import optional_float
from .text_files import read_utf8


@dataclass(frozen=True)
class LabelledVideo:
    item: VideoClip
    label: str


@dataclass(frozen=True)
class CaptionedVideos:
    """A retrieval gallery: distinct videos, all captions, and the video index of every caption."""

    videos: list[VideoClip]
    captions: list[str]
    caption_to_video: list[int]


def list_videos(
    folder: str | os.PathLike, extensions: Sequence[str] = VIDEO_EXTENSIONS, recursive: bool = True
) -> list[VideoClip]:
    """Every video file under ``folder`` (sorted), as whole-video items.

    Regular files only (a link to one counts): FIFOs, sockets, devices and broken or looping links with a video
    extension are left out with a warning; linked folders are not entered (no symlink loop is ever followed).
    """
    folder = Path(folder)
    if not folder.exists():
        raise FileNotFoundError(f"video folder {str(folder)!r} does not exist")
    if folder.is_file():
        return [VideoClip(str(folder))]
    exts = {e.lower() for e in extensions}
    paths, irregular = [], []
    for root, folders, names in os.walk(folder, followlinks=False):
        if not recursive:
            folders.clear()
        for name in names:
            if os.path.splitext(name)[1].lower() in exts:
                path = Path(root, name)
                (paths if _is_regular_file(path) else irregular).append(path)
    paths.sort()
    if irregular:
        shown = ", ".join(str(p) for p in sorted(irregular)[:5]) + (", ..." if len(irregular) > 5 else "")
        warnings.warn(
            f"{len(irregular)} entries of {folder} that are not regular files left out: {shown}", stacklevel=2
        )
    if not paths:
        raise FileNotFoundError(f"no video files ({', '.join(sorted(exts))}) found in {str(folder)!r}")
    return [VideoClip(str(p)) for p in paths]


def _is_regular_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)  # follows links; a loop raises ELOOP
    except OSError:
        return False


def _seconds(row: dict, key: str) -> float | None:
    """The ``start_sec``/``end_sec`` column of a row (``start``/``end`` accepted as aliases)."""
    alias = key.removesuffix("_sec")
    if row.get(key) not in (None, "") and row.get(alias) not in (None, ""):
        raise ValueError(f"give either {key!r} or {alias!r}, not both")
    value = row.get(key) if row.get(key) not in (None, "") else row.get(alias)
    try:
        return optional_float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{key}={value!r} is not a number of seconds") from None


def read_list_rows(path: Path) -> Iterable[tuple[str, dict]]:
    """``(where, row)`` of a CSV/TSV (with a header) or JSONL list, ``where`` = ``"{path}:{line}"``."""
    if not path.is_file():
        raise FileNotFoundError(f"video list {str(path)!r} does not exist")
    suffix = path.suffix.lower()
    if suffix in {".jsonl", ".json"}:
        for number, line in enumerate(read_utf8(path).split("\n"), start=1):  # not splitlines: U+2028 is JSON
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f"{path}:{number}: not valid JSON ({err.msg})") from None
            if not isinstance(row, dict):
                raise ValueError(f"{path}:{number}: expected a JSON object per line")
            yield f"{path}:{number}", row
    elif suffix in {".csv", ".tsv"}:
        text = io.StringIO(read_utf8(path), newline="")
        reader = csv.DictReader(text, delimiter="\t" if suffix == ".tsv" else ",")
        for number, row in enumerate(reader, start=2):
            yield f"{path}:{number}", row
    else:
        raise ValueError(f"video list {str(path)!r}: unsupported format {suffix!r}; use .csv, .tsv or .jsonl")


def clip_from_row(row: dict, where: str, root: Path, check_exists: bool) -> VideoClip:
    """The clip of a list row: ``path`` (or ``video``; relative to ``root``), ``start_sec``/``end_sec``."""
    raw = row.get("path", row.get("video"))
    if raw is None or str(raw).strip() == "":
        raise ValueError(f"{where}: missing the 'path' column (the video file)")
    path = Path(str(raw).strip())
    if not path.is_absolute():
        path = root / path
    if check_exists and not path.is_file():
        raise FileNotFoundError(f"{where}: video file {str(path)!r} does not exist")
    try:
        return VideoClip(str(path), _seconds(row, "start_sec"), _seconds(row, "end_sec"))
    except ValueError as err:
        raise ValueError(f"{where}: {err}") from None


def read_labelled_videos(path: str | os.PathLike, check_exists: bool = True) -> list[LabelledVideo]:
    """Read ``path,start_sec,end_sec,label`` rows (CSV/TSV with a header, or JSONL). Relative paths are
    relative to the list's folder; ``start_sec``/``end_sec`` (seconds, ``start``/``end`` accepted as
    aliases) are optional."""
    path = Path(path)
    rows = []
    for where, row in read_list_rows(path):
        label = row.get("label")
        if label is None or str(label).strip() == "":
            raise ValueError(f"{where}: missing the 'label' column")
        rows.append(LabelledVideo(clip_from_row(row, where, path.parent, check_exists), str(label).strip()))
    if not rows:
        raise ValueError(f"video list {str(path)!r} has no rows")
    return rows


def read_captioned_videos(path: str | os.PathLike, check_exists: bool = True) -> CaptionedVideos:
    """Read a retrieval list: rows ``path,start_sec,end_sec,caption``; a video may appear on several rows, and in
    JSONL ``caption`` may also be a list of strings. Videos keep their first-appearance order."""
    path = Path(path)
    index: dict[VideoClip, int] = {}
    captions: list[str] = []
    caption_to_video: list[int] = []
    for where, row in read_list_rows(path):
        value = row.get("caption", row.get("text"))
        texts = value if isinstance(value, list) else [value]
        texts = [str(t).strip() for t in texts if t is not None and str(t).strip()]
        if not texts:
            raise ValueError(f"{where}: missing the 'caption' column (or it is empty)")
        item = clip_from_row(row, where, path.parent, check_exists)
        video_index = index.setdefault(item, len(index))
        captions.extend(texts)
        caption_to_video.extend([video_index] * len(texts))
    if not captions:
        raise ValueError(f"video list {str(path)!r} has no rows")
    return CaptionedVideos(list(index), captions, caption_to_video)
