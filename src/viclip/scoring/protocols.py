"""The two ways to turn a video into the frames ViCLIP scores: ``viclip`` (the paper's evaluation: the model's
own video processor, 8 middle frames by time, straight resize, ImageNet mean/std) and ``vbench`` (VBench 0.1.5:
decord's frame rule over the frame count, short side + centre crop, OpenAI CLIP mean/std).

A protocol gives the engine its decoding step (uint8 frames, resized and cropped, in CPU tasks) and the
normalisation the model worker applies on its device.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..inference.engine import decode_clips
from ..processing.video_reading import DEFAULT_DECODE_TIMEOUT, DEFAULT_MAX_PIXELS
from .vbench import (
    IMAGE_SIZE,
    NUM_FRAMES,
    OPENAI_CLIP_MEAN,
    OPENAI_CLIP_STD,
    read_vbench_frames,
    vbench_resize_crop,
)

PROTOCOLS = ("viclip", "vbench")


@dataclass(frozen=True)
class ScoringProtocol:
    """``decode(batch, **decode_kwargs)`` -> uint8 pixels (see :class:`viclip.inference.BatchSource`), and the
    video processor whose ``rescale_and_normalize`` settings the worker applies."""

    name: str
    decode: Callable[..., dict[str, np.ndarray]]
    decode_kwargs: dict[str, Any]
    normaliser: Any

    def describe(self) -> dict[str, Any]:
        """What was done to the frames, for results files (two runs can be compared)."""
        normaliser = self.normaliser
        return {
            "protocol": self.name,
            "frames": int(normaliser.num_frames),
            "size": int(normaliser.size["height"]),
            "mean": [float(v) for v in normaliser.image_mean],
            "std": [float(v) for v in normaliser.image_std],
            "similarity": "cosine of L2-normalised video and text features, no temperature",
        }


def scoring_protocol(
    name: str,
    processor: Any,
    *,
    decode_timeout: float | None = DEFAULT_DECODE_TIMEOUT,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
) -> ScoringProtocol:
    """The protocol ``name`` ("viclip" or "vbench") for a model whose processor is ``processor``; every decode has
    the deadline ``decode_timeout`` and refuses frames above ``max_pixels`` (as ``read_video_clip``)."""
    video_processor = getattr(processor, "video_processor", processor)
    if name == "viclip":
        limits = {"decode_timeout": decode_timeout, "max_pixels": max_pixels}
        kwargs = {"video_processor": video_processor, "decode_limits": limits}
        return ScoringProtocol("viclip", decode_clips, kwargs, video_processor)
    if name == "vbench":
        from ..processing import ViCLIPVideoProcessor

        normaliser = ViCLIPVideoProcessor.for_model(
            image_size=IMAGE_SIZE,
            num_frames=NUM_FRAMES,
            image_mean=OPENAI_CLIP_MEAN,
            image_std=OPENAI_CLIP_STD,
        )
        kwargs = {
            "num_frames": NUM_FRAMES,
            "size": IMAGE_SIZE,
            "timeout": decode_timeout,
            "max_pixels": max_pixels,
        }
        return ScoringProtocol("vbench", decode_vbench, kwargs, normaliser)
    raise ValueError(f"protocol must be one of {', '.join(PROTOCOLS)}, got {name!r}")


def decode_vbench(
    batch: dict[str, np.ndarray],
    num_frames: int = NUM_FRAMES,
    size: int = IMAGE_SIZE,
    timeout: float | None = DEFAULT_DECODE_TIMEOUT,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
) -> dict[str, np.ndarray]:
    """VBench's frames of each ``path`` (other columns pass through), resized and cropped, uint8; a video that
    cannot be read gets zero pixels and its ``error``."""
    count = len(batch["path"])
    pixels = np.zeros((count, num_frames, 3, size, size), dtype=np.uint8)
    errors = [""] * count
    file_sizes, mtimes = np.zeros(count, np.int64), np.zeros(count, np.int64)
    for i in range(count):
        path = str(batch["path"][i])
        try:
            stat = os.stat(path)
            file_sizes[i], mtimes[i] = stat.st_size, stat.st_mtime_ns
            frames = read_vbench_frames(path, num_frames, timeout=timeout, max_pixels=max_pixels)
            pixels[i] = vbench_resize_crop(frames, size).numpy()
        except Exception as error:  # one bad video never stops the run: it is listed instead
            errors[i] = f"{type(error).__name__}: {error}"
    return {
        **batch,
        "path": np.asarray(batch["path"]).astype(str),
        "pixel_values_videos": pixels,
        "file_size": file_sizes,
        "file_mtime_ns": mtimes,
        "error": np.asarray(errors, dtype=object).astype(str),
    }
