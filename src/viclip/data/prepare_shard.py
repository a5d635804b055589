"""One shard of a preparation: a group of annotation rows -> one Parquet file and its record, atomically.

Pure Python (no Ray): :func:`prepare_shard` is what each Ray task runs, and can be called alone. The output
depends only on the rows and the :class:`PrepareSettings`, so redoing a shard after a crash writes the same bytes.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..processing import ClipRangeError, VideoDecodeError, read_video_clip
from .annotations import AnnotationFilter, SkipReason, parse_json_line, parse_row
from .caption_list import LISTED_PATH
from .disk_full import stop_on_full_disk
from .internvid import annotate_row
from .prepared_format import (
    RECORDS_DIR,
    SCHEMA,
    SHARDS_DIR,
    encode_jpeg_frame,
    frame_layout,
    shard_name,
    stored_frames,
)
from .video_locator import VideoLocator

logger = logging.getLogger(__name__)
_UMASK = os.umask(0)
os.umask(_UMASK)


@dataclass(frozen=True)
class PrepareSettings:
    """Everything that decides the bytes of a shard (saved in ``prepare_config.json``; a rerun must match).

    Args:
        video_root: folder of whole videos and/or pre-cut clips (see :class:`VideoLocator`).
        num_frames: frames per clip of the model's processor (the segments of the frame sampling;
            ``prepare_internvid`` takes it from the processor, ``load_prepared`` reads it back from the manifest).
        filters: the row filters of ``load_internvid``.
        train_choices: frames kept per segment for training's random sampling (>= 1; 1 = the middle frame only).
        short_side: frames are resized (antialiased) so that their shorter side is this many pixels; never up.
        jpeg_quality: JPEG quality of the stored frames.
        rows_per_shard: annotation rows per shard (skipped rows included): a shard is the unit of work and resume.
        row_group_size: clips per Parquet row group (what a streaming reader holds in memory at once).
    """

    video_root: str
    num_frames: int
    filters: AnnotationFilter = field(default_factory=AnnotationFilter)
    train_choices: int = 3
    short_side: int = 320
    jpeg_quality: int = 90
    rows_per_shard: int = 1000
    row_group_size: int = 64

    def __post_init__(self):
        for name in ("num_frames", "train_choices", "short_side", "rows_per_shard", "row_group_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not 1 <= self.jpeg_quality <= 100:
            raise ValueError(f"jpeg_quality must be in [1, 100], got {self.jpeg_quality}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def atomic_write(path: Path, write) -> None:
    """``write(temp_path)`` then rename: ``path`` is either absent or complete, never half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(temp)
        os.chmod(temp, 0o666 & ~_UMASK)  # mkstemp makes 0600; the folder is data to share
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, data: Any) -> None:
    def write(temp):
        with open(temp, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, sort_keys=True)
            f.write("\n")

    atomic_write(path, write)


def _resize_frames(frames: np.ndarray, short_side: int) -> np.ndarray:
    """(N, H, W, 3) uint8 -> the same with the shorter side ``short_side`` (antialiased bicubic), never up.

    torch's uint8 channels-last resize (Pillow's filter, ~7x faster than ``Image.resize`` on 720p frames: the
    resize was most of the preparation time).
    """
    import torch

    height, width = frames.shape[1:3]
    scale = short_side / min(height, width)
    if scale >= 1:
        return frames
    size = (max(1, round(height * scale)), max(1, round(width * scale)))
    video = torch.from_numpy(frames).permute(0, 3, 1, 2)  # a channels-last view
    resized = torch.nn.functional.interpolate(video, size=size, mode="bicubic", antialias=True)
    return resized.permute(0, 2, 3, 1).numpy()


def prepared_sample(
    row: dict[str, Any],
    raw: dict[str, Any],
    settings: PrepareSettings,
    decode_limits: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A joined row (``annotate_row``'s output, with a video) -> one Parquet row of :data:`SCHEMA`.

    Decodes the clip once, keeping only the frames of :func:`frame_layout`; ``decode_limits``: ``read_video_clip``'s
    ``timeout`` and ``max_pixels`` (its defaults when not given).
    """
    video = row["video_path"]
    path = getattr(video, "path", video)
    frames, info = read_video_clip(
        path,
        row["clip_start_sec"],
        row["clip_end_sec"],
        sampling=lambda n: stored_frames(n, settings.num_frames, settings.train_choices),
        num_threads=1,
        **(decode_limits or {}),
    )
    layout = frame_layout(info.num_range_frames, settings.num_frames, settings.train_choices)
    kept = stored_frames(info.num_range_frames, settings.num_frames, settings.train_choices)
    position = {source: i for i, source in enumerate(kept)}
    frames = _resize_frames(frames, settings.short_side)
    # A caption-list row has no scores; a JSON Lines row is its text.
    clip = (
        None
        if LISTED_PATH in raw
        else parse_row(parse_json_line(raw["text"]) if set(raw) == {"text"} else raw)
    )
    return {
        "row_index": row["row_index"],
        "youtube_id": row["youtube_id"],
        "start_sec": row["start_sec"],
        "end_sec": row["end_sec"],
        "start_timestamp": row["start_timestamp"],
        "end_timestamp": row["end_timestamp"],
        "caption": row["caption"],
        "aesthetic_score": clip.aesthetic_score if clip else None,
        "umt_score": clip.umt_score if clip else None,
        "source_video": os.path.basename(path),
        "num_source_frames": info.num_range_frames,
        "width": frames.shape[2],
        "height": frames.shape[1],
        "frame_timestamps": [float(t) for t in info.timestamps],
        "frame_order": [position[source] for source in layout],
        "frames": [encode_jpeg_frame(f, settings.jpeg_quality) for f in frames],
    }


def _skip(row: dict[str, Any], reason: SkipReason | str, message: str) -> dict[str, Any]:
    return {
        "row_index": row["row_index"],
        "youtube_id": row["youtube_id"],
        "start_timestamp": row["start_timestamp"],
        "end_timestamp": row["end_timestamp"],
        "reason": reason.value if isinstance(reason, SkipReason) else reason,
        "message": message,
    }


def _size_in_memory(write) -> int:
    """The bytes ``write(sink)`` writes, written to memory (what a failed write on a full disk needed)."""
    sink = pa.BufferOutputStream()
    write(sink)
    return sink.tell()


def prepare_shard(
    shard: int,
    rows: list[tuple[int, dict[str, Any]]],
    settings: PrepareSettings,
    output_dir: str | Path,
    decode_limits: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Turn ``rows`` (``(row_index, raw_row)`` pairs) into ``shards/shard-NNNNNN.parquet`` and its record.

    A row that cannot become a clip (filtered, no video, corrupt video, any error) is recorded with its reason;
    nothing here raises for one row. The Parquet file (when any clip was written) appears before the record, each
    by rename: a shard is done exactly when its record exists. Returns the record. A full disk raises
    :class:`~viclip.data.disk_full.DiskFullError` (the job stops), leaving no partial file.
    """
    output_dir = Path(output_dir)
    videos = VideoLocator(settings.video_root)
    samples, skipped = [], []
    for index, raw in rows:
        row = annotate_row(index, raw, settings.filters, videos)
        if row["skip_reason"]:
            skipped.append(_skip(row, row["skip_reason"], row["skip_message"]))
            continue
        try:
            samples.append(prepared_sample(row, raw, settings, decode_limits))
        except ClipRangeError as e:
            skipped.append(_skip(row, SkipReason.SEGMENT_OUT_OF_RANGE, str(e)))
        except VideoDecodeError as e:
            skipped.append(_skip(row, SkipReason.CORRUPT_VIDEO, str(e)))
        except Exception as e:  # one row never stops a shard; the record says what happened
            logger.warning(
                "row %s: %s: %s", index, type(e).__name__, e, exc_info=logger.isEnabledFor(logging.DEBUG)
            )
            skipped.append(_skip(row, SkipReason.PROCESSING_ERROR, f"{type(e).__name__}: {e}"))

    name = shard_name(shard)
    shard_file = None
    if samples:
        table = pa.Table.from_pylist(samples, schema=SCHEMA)
        shard_file = f"{SHARDS_DIR}/{name}.parquet"

        def write(target) -> None:
            pq.write_table(
                table,
                target,
                row_group_size=settings.row_group_size,
                compression="none",
                use_dictionary=False,
            )

        with stop_on_full_disk(output_dir, needed=lambda: _size_in_memory(write), writing=shard_file):
            atomic_write(output_dir / shard_file, write)
    record = {
        "shard": shard,
        "file": shard_file,
        "first_row": rows[0][0] if rows else None,
        "rows_read": len(rows),
        "rows_written": len(samples),
        "skipped": skipped,
    }
    with stop_on_full_disk(output_dir, writing=f"{RECORDS_DIR}/{name}.json"):
        write_json_atomic(output_dir / RECORDS_DIR / f"{name}.json", record)
    return record
