"""What a benchmark records about its model: the kind (ViCLIP or image CLIP), the protocol applied to frames and
texts, and the model's identity. The embedders themselves live in :mod:`viclip.inference`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from transformers.image_utils import PILImageResampling

from ...inference.image_clip import FRAME_POOLING, ImageCLIPEmbedder
from ...inference.loading import read_model_config
from ...processing import ViCLIPVideoProcessor


def model_kind(embedder) -> str:
    return "clip" if isinstance(embedder, ImageCLIPEmbedder) else "viclip"


def video_processor_of(embedder) -> ViCLIPVideoProcessor:
    if isinstance(embedder, ImageCLIPEmbedder):
        return embedder.video_processor
    return embedder.processor.video_processor


def describe_protocol(embedder, text_cleaning: str, templates: Sequence[str] | None = None) -> dict[str, Any]:
    """What was done to frames and texts, for the results file (so two runs can be compared)."""
    processor = video_processor_of(embedder)
    size = processor.size
    protocol: dict[str, Any] = {
        "frames": int(processor.num_frames),
        "sampling": f"{processor.sampling}: {processor.num_frames} equal segments of the clip, the middle frame "
        "of each ((start + end - 1) // 2), as the original dataset/video_utils.py sample_type 'middle'",
        "views": "1 clip x 1 crop",
        "resize": f"({size['height']}, {size['width']}) straight, aspect not kept, no crop",
        "interpolation": PILImageResampling(processor.resample).name.lower()
        + ("" if processor.antialias else ", no antialias"),
        "normalisation": {"mean": list(processor.image_mean), "std": list(processor.image_std)},
        "text_cleaning": text_cleaning,
        "similarity": "cosine of L2-normalised embeddings",
        "dtype": str(embedder.dtype).replace("torch.", ""),
    }
    if isinstance(embedder, ImageCLIPEmbedder):
        protocol["frame_pooling"] = FRAME_POOLING
    if templates is not None:
        protocol["templates"] = list(templates)
        protocol["template_scoring"] = (
            "mean over templates of the cosine similarity (the original get_sim 'mean')"
        )
    return protocol


def model_identity(name_or_path: str | os.PathLike | None, embedder) -> dict[str, Any]:
    """Model name, kind, Hub revision (the commit, when loaded from the Hub) and a weights fingerprint."""
    model_type, revision = embedder.model.config.model_type, None
    if name_or_path is not None:
        model_type, revision = read_model_config(name_or_path)
    return {
        "name": None if name_or_path is None else str(name_or_path),
        "kind": model_kind(embedder),
        "model_type": model_type,
        "revision": revision,
        "fingerprint": embedder.fingerprint(),
        "num_parameters": sum(p.numel() for p in embedder.model.parameters()),
    }
