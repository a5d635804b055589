"""Initialisation for ViCLIP models trained from scratch (not from CLIP or ViCLIP weights)."""

from __future__ import annotations

import torch
from torch import nn


def randomize_temporal_embedding(model: nn.Module, std: float | None = None) -> None:
    """Give the temporal position table small random values instead of the original's zeros.

    ViCLIP zero-initialises the table because it starts from CLIP, whose image features already differ per frame.
    From scratch, a zero table leaves the frames interchangeable and training settles on what an unordered set
    of frames can tell (the axis of a motion, not its sense); a small random table breaks that symmetry.
    `model` is any ViCLIP model holding a `ViCLIPVisionEmbeddings`; `std` defaults to `initializer_range`.
    """
    tables = [m for m in model.modules() if hasattr(m, "temporal_embedding")]
    if not tables:
        raise ValueError(f"{type(model).__name__} has no temporal embedding to initialise")
    for embeddings in tables:
        with torch.no_grad():
            embeddings.temporal_embedding.normal_(std=std or embeddings.config.initializer_range)
