"""The on-disk format of training-ready InternVid shards, shared by the writer and the reader.

A prepared folder holds::

    README.md              dataset card whose YAML points ``datasets`` at shards/*.parquet
    prepare_config.json    the settings that determine the shards (a rerun must use the same ones)
    shards/shard-000012.parquet   one per group of ``rows_per_shard`` source rows (none if all were skipped)
    records/shard-000012.json     that group's outcome: examples written, rows skipped with reason
    manifest.json          totals over every record; skipped.jsonl: every skipped row, in source order

Each Parquet row is one clip: the caption and source fields, and the frames it keeps as JPEG bytes at a
short side of ``short_side`` pixels. Not every frame is kept: only what the two samplings can pick.
:func:`frame_layout` lays the kept frames out as a short "virtual video" of ``num_frames * (train_choices + 1)``
slots, built so that ``sample_frame_indices`` run on the slots picks:

- ``"middle"`` (evaluation): exactly the frames it picks on the source clip;
- ``"random"`` (training): one frame per segment among ``train_choices`` frames spread over the segment
  (the source clip offers every frame of the segment; ``train_choices`` of them is the reduction).

``frame_order`` maps each slot to one of the stored ``frames`` (a frame used by two slots is stored once).
"""

from __future__ import annotations

import io
import itertools
import math
from pathlib import Path

import numpy as np
import pyarrow as pa

SHARDS_DIR = "shards"
RECORDS_DIR = "records"
CONFIG_FILE = "prepare_config.json"
MANIFEST_FILE = "manifest.json"
SKIPPED_FILE = "skipped.jsonl"
CARD_FILE = "README.md"
FORMAT_VERSION = 1

SCHEMA = pa.schema(
    [
        ("row_index", pa.int64()),
        ("youtube_id", pa.string()),
        ("start_sec", pa.float64()),
        ("end_sec", pa.float64()),
        ("start_timestamp", pa.string()),
        ("end_timestamp", pa.string()),
        ("caption", pa.string()),
        ("aesthetic_score", pa.float64()),
        ("umt_score", pa.float64()),
        ("source_video", pa.string()),
        ("num_source_frames", pa.int32()),
        ("width", pa.int32()),
        ("height", pa.int32()),
        ("frame_timestamps", pa.list_(pa.float64())),
        ("frame_order", pa.list_(pa.int32())),
        ("frames", pa.list_(pa.binary())),
    ]
)
# Columns the reader needs to build an example (the rest are kept for tracing and filtering).
FRAME_COLUMNS = ("frames", "frame_order", "frame_timestamps", "num_source_frames", "width", "height")


def shard_name(shard: int) -> str:
    return f"shard-{shard:06d}"


def frame_layout(num_range_frames: int, num_frames: int, train_choices: int) -> list[int]:
    """The source frame (index in the clip's range) behind each slot of the stored virtual video.

    With fewer frames than ``num_frames`` every frame is kept once (both samplings then behave exactly as on the
    source). Otherwise each of the ``num_frames`` segments of ``sample_frame_indices`` gets ``train_choices + 1``
    slots: ``train_choices`` frames spread over the part of the segment that random sampling draws from, the
    one at position ``train_choices // 2`` being the segment's middle frame, then the middle frame again (the last
    slot of a segment is never drawn by random sampling; middle sampling picks position ``train_choices // 2``).
    """
    if num_range_frames < 1:
        raise ValueError(f"a clip needs at least one frame, got {num_range_frames}")
    if train_choices < 1:
        raise ValueError(f"train_choices must be >= 1, got {train_choices}")
    if num_range_frames < num_frames:
        return list(range(num_range_frames))
    edges = np.linspace(0, num_range_frames, num_frames + 1).astype(int)
    slots: list[int] = []
    for a, b in itertools.pairwise(edges.tolist()):
        middle = (a + b - 1) // 2
        drawable = max(a + 1, b - 1) - a  # random sampling draws from [a, max(a + 1, b - 1))
        choices = [a + math.floor((i + 0.5) * drawable / train_choices) for i in range(train_choices)]
        choices[train_choices // 2] = middle
        slots.extend([*choices, middle])
    return slots


def stored_frames(num_range_frames: int, num_frames: int, train_choices: int) -> list[int]:
    """The distinct source frames a clip keeps, in time order."""
    return sorted(set(frame_layout(num_range_frames, num_frames, train_choices)))


def list_shard_files(folder: str | Path) -> list[str]:
    """The shard files of a local prepared folder, relative to it, in shard order."""
    return sorted(p.relative_to(folder).as_posix() for p in Path(folder, SHARDS_DIR).glob("shard-*.parquet"))


def dataset_card(manifest: dict) -> str:
    """The README.md of a prepared folder: the YAML tells ``datasets`` (local or Hub) where the shards are."""
    settings = manifest["settings"]
    skipped = ", ".join(f"{k}={v}" for k, v in sorted(manifest["rows_skipped"].items())) or "none"
    caption_list = manifest["annotations"].get("clips")
    if caption_list:
        title, tags = "Training-ready video clips from a caption list", "- video\n- viclip"
        rows = f"caption-list rows (`{Path(caption_list).name}`)"
        rights = "The captions and the videos are those of the caption list's owner; check their licences."
    else:
        title, tags = "Training-ready InternVid clips", "- video\n- internvid\n- viclip"
        rows = "annotation rows"
        rights = "InternVid annotations are CC BY-NC-SA 4.0; the videos belong to their YouTube owners."
    return f"""---
configs:
- config_name: default
  data_files:
  - split: train
    path: {SHARDS_DIR}/shard-*.parquet
tags:
{tags}
---

# {title} (viclip prepared shards)

Written by `viclip prepare` (format {FORMAT_VERSION}). Read with `viclip.data.load_prepared(path_or_repo)`.

- {manifest["rows_written"]} clips written from {manifest["rows_read"]} {rows}; skipped: {skipped}.
- {settings["num_frames"]} frame segments, {settings["train_choices"]} training choices per segment, frames as
  JPEG (quality {settings["jpeg_quality"]}) at a short side of {settings["short_side"]} pixels.
- {rights}
"""


def encode_jpeg_frame(frame: np.ndarray, quality: int) -> bytes:
    """An (H, W, 3) uint8 RGB frame -> JPEG bytes (Pillow)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(frame)).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def decode_jpeg_frame(data: bytes):
    """JPEG bytes -> a (C, H, W) uint8 RGB ``torch.Tensor``, a channels-last view (no copy into planes).

    Pillow's libjpeg-turbo: the same pixels, at the same speed, as torchvision's ``decode_jpeg``, which is
    deprecated since torchvision 0.29. A corrupt or truncated frame raises ``OSError``."""
    import torch
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return torch.from_numpy(np.array(image.convert("RGB"))).permute(2, 0, 1)
