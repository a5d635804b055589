"""Caption lists as training rows: ``path,start_sec,end_sec,caption`` (CSV, TSV or JSON Lines), the format
`viclip evaluate retrieval`, `viclip score` and `viclip embed` read, becoming the joined rows `load_internvid`
and `prepare_internvid` turn into examples and shards (see `viclip.data.load_clips`).

The list is read whole and checked first (a bad row is one error naming the file and the row); a video file that is
missing when its row comes up is a skipped row (``missing_video``), as a broken one is (``corrupt_video``).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .annotations import AnnotationFilter, ClipAnnotation, SkipReason, format_timestamp
from .video_list import clip_from_row, read_list_rows

LISTED_PATH = "listed_path"
"""The key that marks a raw row as a caption-list row (an InternVid row has ``YoutubeID``)."""
LISTED_COLUMNS = (LISTED_PATH, "listed_start_sec", "listed_end_sec", "caption", "listed_row")


def read_caption_rows(
    path: str | os.PathLike, video_root: str | os.PathLike | None = None
) -> list[dict[str, Any]]:
    """The rows of a caption list, one per caption (a clip on several rows, or a JSON Lines ``caption`` list, gives
    one row per caption). ``path`` (or ``video``) is relative to ``video_root`` (default: the list's folder);
    ``start_sec``/``end_sec`` are optional; ``caption`` or ``text`` is required.

    Raises:
        ValueError / FileNotFoundError: one line naming the file and the row (``"{path}:{line}: ..."``).
    """
    path = Path(path)
    root = Path(video_root) if video_root is not None else path.parent
    rows = []
    for where, row in read_list_rows(path):
        value = row.get("caption", row.get("text"))
        texts = value if isinstance(value, list) else [value]
        texts = [str(t).strip() for t in texts if t is not None and str(t).strip()]
        if not texts:
            raise ValueError(f"{where}: missing the 'caption' column (or it is empty)")
        clip = clip_from_row(row, where, root, check_exists=False)
        for text in texts:
            rows.append(
                {
                    LISTED_PATH: os.path.abspath(clip.path),
                    "listed_start_sec": clip.start_sec,
                    "listed_end_sec": clip.end_sec,
                    "caption": text,
                    "listed_row": where,
                }
            )
    if not rows:
        raise ValueError(f"caption list {str(path)!r} has no rows")
    return rows


@dataclass(frozen=True)
class CaptionListSource:
    """A caption list as the row source of `load_internvid`'s pipeline (the counterpart of ``AnnotationSource``)."""

    path: str
    video_root: str | None = None

    @property
    def root(self) -> str:
        """The folder relative video paths are read against."""
        return self.video_root if self.video_root is not None else str(Path(self.path).parent)

    @property
    def data_files(self) -> tuple[str, ...]:
        return (self.path,)

    def load(self, streaming: bool):
        """The list as a ``datasets`` table (a stream with ``streaming``), read once per file version."""
        stat = os.stat(self.path)
        dataset = _rows_dataset(self.path, self.video_root, stat.st_mtime_ns, stat.st_size)
        return dataset.to_iterable_dataset() if streaming else dataset

    def check(self) -> int:
        """Read the whole list now (raising on a bad row); the number of rows."""
        return len(self.load(streaming=False))


@functools.lru_cache(maxsize=4)
def _rows_dataset(path: str, video_root: str | None, mtime_ns: int, size: int):
    from datasets import Dataset, Features, Value

    features = Features(
        {
            LISTED_PATH: Value("string"),
            "listed_start_sec": Value("float64"),
            "listed_end_sec": Value("float64"),
            "caption": Value("string"),
            "listed_row": Value("string"),
        }
    )
    return Dataset.from_list(read_caption_rows(path, video_root), features=features)


def listed_row_fields(raw: dict[str, Any], row_filter: AnnotationFilter) -> dict[str, Any]:
    """A caption-list row -> the fields of its joined row (``internvid.ROW_FEATURES``), with ``skip_reason`` when
    the video file is missing or a filter rejects the row. ``youtube_id`` is the video's file name stem."""
    path, start, end = raw[LISTED_PATH], raw["listed_start_sec"], raw["listed_end_sec"]
    fields = {
        "youtube_id": Path(path).stem,
        "start_timestamp": format_timestamp(start) if start is not None else None,
        "end_timestamp": format_timestamp(end) if end is not None else None,
        "start_sec": start,
        "end_sec": end,
        "caption": raw["caption"],
    }
    if start is not None and end is not None:
        clip = ClipAnnotation(fields["youtube_id"], start, end, raw["caption"], "", "")
        rejected = row_filter.check(clip)
        if rejected is not None:
            return {
                **fields,
                "skip_reason": rejected[0].value,
                "skip_message": f"{raw['listed_row']}: {rejected[1]}",
            }
    if not Path(path).is_file():
        message = f"{raw['listed_row']}: video file {path!r} does not exist"
        return {**fields, "skip_reason": SkipReason.MISSING_VIDEO.value, "skip_message": message}
    return {**fields, "video_path": path, "clip_start_sec": start, "clip_end_sec": end}
