"""What ``viclip score --protocol viclip`` scores: (clip, text) rows from a clip list with a ``text`` or
``caption`` column, InternVid rows (``YoutubeID``, ``Caption``) found under a video root, prepared shards
(``viclip prepare``: the clips' frames are in the shards, the text is their caption), or Python pairs.

Every input column is kept, so that curation writes the rows back with their score.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..inference.prepared import prepared_shards
from ..processing import VideoClip

TEXT_COLUMNS = ("text", "caption", "Caption")


@dataclass(frozen=True)
class ScoringRow:
    """One (clip, text) pair to score, with the input row's own columns."""

    clip: VideoClip
    text: str
    columns: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass
class ScoringInputs:
    rows: list[ScoringRow]
    # (where, reason) of input rows that name no readable pair (an InternVid row whose video is missing).
    unmatched: list[tuple[str, str]] = field(default_factory=list)
    # The shard files when the rows come from a prepared folder: their frames are read from there.
    prepared_files: list[str] | None = None


def read_scoring_inputs(
    inputs: str | os.PathLike | Iterable[Any], video_root: str | os.PathLike | None = None
) -> ScoringInputs:
    """The pairs of a clip list (CSV/TSV/JSONL: ``path,start_sec,end_sec,text``), InternVid rows (with
    ``video_root``) or Python ``(clip, text)`` pairs (a clip as :meth:`VideoClip.coerce` takes it).

    Raises:
        FileNotFoundError: the list does not exist.
        ValueError: a row has no text (or an empty one), or is malformed; the file and line are named.
    """
    if not isinstance(inputs, (str, os.PathLike)):
        rows = []
        for number, item in enumerate(inputs):
            try:
                clip, text = item
            except (TypeError, ValueError):
                raise ValueError(f"pair {number}: expected (clip, text), got {item!r}") from None
            rows.append(ScoringRow(VideoClip.coerce(clip), _text(text, f"pair {number}")))
        return ScoringInputs(rows)
    from ..data.video_list import clip_from_row, read_list_rows

    path = Path(inputs)
    prepared = prepared_shards(path)
    if prepared is not None:
        return _prepared_inputs(path, prepared)
    if path.is_dir():
        raise ValueError(
            f"{path} is a folder but not a prepared one: scoring needs texts, so give a clip list with a 'text' or "
            "'caption' column, a `viclip prepare` folder, or --protocol vbench --videos-path FOLDER (whose prompts "
            "are the file names)"
        )
    result = ScoringInputs([])
    locator = None
    base = Path(video_root) if video_root is not None else path.parent
    for where, raw in read_list_rows(path):
        text_column = next((c for c in TEXT_COLUMNS if c in raw), None)
        if text_column is None:
            raise ValueError(f"{where}: no text column (one of {', '.join(TEXT_COLUMNS)})")
        text = _text(raw[text_column], where)
        if "YoutubeID" in raw:
            locator = locator or _locator(video_root, where)
            clip = locator.locate_row(raw, where, result.unmatched)
            if clip is None:
                continue
        else:
            clip = clip_from_row(raw, where, base, check_exists=False)  # a missing video is a listed failure
        result.rows.append(ScoringRow(clip, text, dict(raw)))
    if not result.rows and not result.unmatched:
        raise ValueError(f"{path} has no rows to score")
    return result


def _prepared_inputs(folder: Path, files: list[str]) -> ScoringInputs:
    """One row per shard row: the clip ``(source_video, start_sec, end_sec)``, its caption, its other columns."""
    import pyarrow.parquet as pq

    rows = []
    for file in files:
        names = [n for n in pq.read_schema(file).names if n not in ("frames", "frame_order")]
        for number, raw in enumerate(pq.read_table(file, columns=names).to_pylist()):
            where = f"{file} row {number}"
            clip = VideoClip(str(raw["source_video"]), raw["start_sec"], raw["end_sec"])
            rows.append(ScoringRow(clip, _text(raw.get("caption"), where), raw))
    if not rows:
        raise ValueError(f"{folder} has no prepared rows to score")
    return ScoringInputs(rows, prepared_files=files)


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: empty text")
    return value


def _locator(video_root: str | os.PathLike | None, where: str):
    from ..data.video_locator import VideoLocator

    if video_root is None:
        raise ValueError(f"{where}: InternVid rows (YoutubeID) need --video-root, the folder of their videos")
    return VideoLocator(video_root)
