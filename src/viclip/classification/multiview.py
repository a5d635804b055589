"""Multi-view testing: several temporal clips x spatial crops of one video, classified and averaged.

The action-recognition protocol of the paper's Table 2 (e.g. 4 clips x 3 crops on Kinetics-400):

- temporal clips: the range is cut into ``num_frames`` equal segments, and clip ``j`` of ``num_clips``
  takes the frame at offset ``(j + 0.5) / num_clips`` in every segment, so every clip spans the whole
  range (``num_clips=1`` is the usual middle-frame sampling);
- spatial crops: ``num_crops=1`` keeps the whole frame (the evaluation preprocessing, resized to a
  square); ``num_crops>1`` takes square crops of side ``min(H, W)`` at evenly spaced offsets along the
  long side (3 crops: start, centre, end).

The views are stacked as ``(views, frames, C, H, W)``; ``ViCLIPForVideoClassification`` accepts a
``(batch, views, frames, C, H, W)`` input and averages the logits over views.
"""

from __future__ import annotations

import numpy as np
import torch

from ..processing import ViCLIPVideoProcessor, read_video_clip


def spatial_crops(frames: np.ndarray, num_crops: int) -> list[np.ndarray]:
    """``num_crops`` views of ``(T, H, W, C)`` frames: the whole frame for 1, else square crops along the long side."""
    if num_crops < 1:
        raise ValueError(f"num_crops must be >= 1, got {num_crops}")
    if num_crops == 1:
        return [frames]
    height, width = frames.shape[1:3]
    side = min(height, width)
    offsets = np.linspace(0, max(height, width) - side, num_crops).round().astype(int)
    if height >= width:
        return [frames[:, o : o + side] for o in offsets]
    return [frames[:, :, o : o + side] for o in offsets]


def multiview_frames(
    path: str,
    start: float | None,
    end: float | None,
    num_frames: int,
    num_clips: int = 1,
    num_crops: int = 1,
    num_threads: int = 1,
) -> list[np.ndarray]:
    """The ``num_clips * num_crops`` views of a clip as uint8 ``(num_frames, h, w, 3)`` arrays, clip-major.

    One decode serves every view: ``num_frames * num_clips`` frames at the middles of as many equal
    segments, then clip ``j`` takes every ``num_clips``-th frame starting at ``j``.
    """
    if num_clips < 1:
        raise ValueError(f"num_clips must be >= 1, got {num_clips}")
    frames, _ = read_video_clip(
        path, start, end, num_frames=num_frames * num_clips, sampling="middle", num_threads=num_threads
    )
    views = []
    for j in range(num_clips):
        views.extend(spatial_crops(frames[j::num_clips], num_crops))
    return views


def multiview_pixel_values(
    video_processor: ViCLIPVideoProcessor,
    path: str,
    start: float | None,
    end: float | None,
    num_clips: int,
    num_crops: int,
    num_threads: int = 1,
) -> torch.Tensor:
    """``(num_clips * num_crops, num_frames, C, H, W)`` model input for one clip, preprocessed by ``video_processor``."""
    views = multiview_frames(path, start, end, video_processor.num_frames, num_clips, num_crops, num_threads)
    return torch.stack(
        [
            video_processor(view, do_sample_frames=False, return_tensors="pt")["pixel_values_videos"][0]
            for view in views
        ]
    )
