"""Inference speed-ups for the video tower that keep the embeddings (cosine >= 0.999 to float32)."""

from __future__ import annotations

from typing import Any

OPTIMIZATIONS = ("none", "compile")


def optimize_for_inference(model: Any, optimize: str | None = "compile") -> Any:
    """``model`` (a ``ViCLIPModel``) with its vision tower compiled by ``torch.compile`` (``"compile"``), or
    unchanged (``None``/``"none"``). The first call pays the compilation (about a minute for L/14 on 2 cores);
    the next calls of the same input shape are faster (see the README's CPU inference table)."""
    if optimize in (None, "none"):
        return model
    if optimize not in OPTIMIZATIONS:
        raise ValueError(f"optimize must be one of {OPTIMIZATIONS}, got {optimize!r}")
    model.vision_model.compile(dynamic=False)
    return model
