"""A synthetic action-recognition set: the direction of motion of a shape is the label.

Built on :func:`viclip.data.synthetic.generate_synthetic_internvid`: every annotated segment of its
videos is one labelled clip ``path,start_sec,end_sec,label`` with label ``left``, ``right``, ``up`` or
``down``. Colour and shape vary independently of the label, and one frame alone cannot tell the
direction (the shape sweeps the same positions either way), so a classifier must use time.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path

from ..data.annotations import parse_timestamp
from ..data.synthetic import DIRECTIONS, generate_synthetic_internvid


@dataclass
class SyntheticActionLists:
    """The labelled lists written by :func:`write_synthetic_action_dataset`."""

    train: Path
    eval: Path
    labels: tuple[str, ...]
    num_train: int
    num_eval: int


def _direction(caption: str) -> str:
    direction = caption.rsplit(" ", 1)[-1]
    if direction not in DIRECTIONS:
        raise ValueError(f"cannot read a direction of motion from the synthetic caption {caption!r}")
    return direction


def _write_list(annotations: Path, video_dir: Path, out: Path) -> int:
    rows = []
    with open(annotations, encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            rows.append(
                {
                    "path": os.path.relpath(video_dir / f"{row['YoutubeID']}.mp4", out.parent),
                    "start_sec": parse_timestamp(row["Start_timestamp"]),
                    "end_sec": parse_timestamp(row["End_timestamp"]),
                    "label": _direction(row["Caption"]),
                }
            )
    tmp = out.with_name(f".tmp-{out.name}")
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["path", "start_sec", "end_sec", "label"])
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, out)
    return len(rows)


def write_synthetic_action_dataset(
    out_dir: str | os.PathLike,
    num_videos: int = 40,
    held_out_videos: int = 10,
    clips_per_video: int = 4,
    frames_per_clip: int = 16,
    size: int = 64,
    fps: float = 8.0,
    seed: int = 0,
    progress: bool = True,
) -> SyntheticActionLists:
    """Write synthetic videos and ``train.csv`` / ``eval.csv`` (held-out videos) labelled by motion direction.

    Each video holds ``clips_per_video`` clips of ``frames_per_clip`` frames; the lists address the
    clips by ``start_sec``/``end_sec`` inside the whole videos.
    """
    if held_out_videos < 1:
        raise ValueError(f"held_out_videos must be >= 1 (the evaluation list), got {held_out_videos}")
    out = Path(out_dir)
    written = generate_synthetic_internvid(
        out,
        num_videos=num_videos,
        clips_per_video=clips_per_video,
        seconds=clips_per_video * frames_per_clip / fps,
        size=size,
        fps=fps,
        seed=seed,
        held_out_videos=held_out_videos,
        progress=progress,
    )
    train = out / "train.csv"
    held_out = out / "eval.csv"
    num_train = _write_list(written.annotations, written.video_dir, train)
    num_eval = _write_list(
        written.held_out_annotations,  # type: ignore[arg-type]
        written.video_dir,
        held_out,
    )
    return SyntheticActionLists(train, held_out, DIRECTIONS, num_train, num_eval)
