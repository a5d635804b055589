"""Prepared InternVid shards (``viclip prepare``, :func:`viclip.data.load_prepared`) as inputs of embed and score.

Each shard row is a clip already cut and reduced to the frames the evaluation sampling picks; it is keyed by its
``source_video`` and ``start_sec``/``end_sec``. The frames are the middle-sampled ones, as the processor's default
on the source video (up to the short-side resize of the preparation).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from ..inference.engine import FRAMES_BEFORE_NORMALISATION, uint8_frames
from ..inference.store import ClipKey, clip_key

_KEY_COLUMNS = ["source_video", "start_sec", "end_sec"]
READ_COLUMNS = [*_KEY_COLUMNS, "frames", "frame_order"]


def prepared_shards(inputs: Any) -> list[str] | None:
    """The shard files when ``inputs`` is a prepared folder, else ``None``."""
    if not isinstance(inputs, (str, os.PathLike)) or not Path(inputs).is_dir():
        return None
    from ..data.prepared_format import CONFIG_FILE, list_shard_files

    if not (Path(inputs) / CONFIG_FILE).is_file():
        return None
    return [str(Path(inputs) / name) for name in list_shard_files(inputs)]


def prepared_keys(files: list[str]) -> list[ClipKey]:
    keys = []
    for file in files:
        columns = pq.read_table(file, columns=_KEY_COLUMNS).to_pydict()
        keys += [clip_key(*row) for row in zip(*(columns[c] for c in _KEY_COLUMNS))]
    return keys


def decode_prepared_batch(
    batch: dict[str, Any], video_processor: Any, todo: set[ClipKey]
) -> dict[str, np.ndarray]:
    """Prepared rows -> the columns of :func:`viclip.inference.engine.decode_clips` (rows already embedded are dropped);
    the frames resized and cropped, not yet rescaled or normalised (see :class:`viclip.inference.engine.VideoEmbeddingWorker`)."""
    import torch

    from ..data.prepared_format import decode_jpeg_frame
    from ..processing import sample_frame_indices

    rows = [
        i
        for i, key in enumerate(zip(batch["source_video"], batch["start_sec"], batch["end_sec"]))
        if clip_key(*key) in todo
    ]
    size = video_processor.size
    pixels = np.zeros((len(rows), video_processor.num_frames, 3, size["height"], size["width"]), np.uint8)
    errors = [""] * len(rows)
    for out, i in enumerate(rows):
        try:
            order, frames = list(batch["frame_order"][i]), batch["frames"][i]
            slots = sample_frame_indices(len(order), video_processor.num_frames, "middle")
            images = [decode_jpeg_frame(frames[order[s]]) for s in slots]
            processed = video_processor(
                torch.stack(images),
                do_sample_frames=False,
                return_tensors="pt",
                **FRAMES_BEFORE_NORMALISATION,
            )
            pixels[out] = uint8_frames(processed["pixel_values_videos"][0])
        except Exception as error:  # a corrupt row is listed, never fatal
            errors[out] = f"{type(error).__name__}: {error}"
    return {
        "path": np.asarray([str(batch["source_video"][i]) for i in rows], dtype=object).astype(str),
        "start_sec": np.asarray([batch["start_sec"][i] for i in rows], dtype=np.float64),
        "end_sec": np.asarray([batch["end_sec"][i] for i in rows], dtype=np.float64),
        "pixel_values_videos": pixels,
        "file_size": np.full(len(rows), -1, np.int64),  # not a file of its own: never stale-checked
        "file_mtime_ns": np.full(len(rows), -1, np.int64),
        "error": np.asarray(errors, dtype=object).astype(str),
    }
