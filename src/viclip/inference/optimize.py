"""Inference speed-ups for the video tower that keep the embeddings (cosine >= 0.999 to float32)."""

from __future__ import annotations

from typing import Any

OPTIMIZATIONS = ("none", "compile", "openvino", "onnx-int8")


def optimize_for_inference(model: Any, optimize: str | None = "compile") -> Any:
    """``model`` (a ``ViCLIPModel``) with its vision tower compiled by ``torch.compile`` (``"compile"``, with
    inductor's weight freezing switched on for the process: the weights must not change afterwards), run in
    float32 on OpenVINO (``"openvino"``, the ``cpu`` extra: :mod:`viclip.inference.openvino_tower`), in int8
    on ONNX Runtime (``"onnx-int8"``, the ``cpu`` extra: :mod:`viclip.inference.onnx_int8_tower`), or
    unchanged (``None``/``"none"``).

    The first call pays the compilation (30-60 s for L/14 on 2 cores), and so does every new input shape
    (batch size): feed it batches of one size (``embed_videos`` pads its last batch). It helps where bf16 is
    native (a GPU; a CPU with AMX or AVX512-BF16: about 1.4x the original code's bf16 autocast on an AMX Xeon);
    on an AVX2-only CPU it ran 0.86x in float32 (docs/cpu.md): try ``"onnx-int8"`` (cosine >= 0.999 to
    float32) or ``"openvino"`` (float32's embedding) there."""
    if optimize in (None, "none"):
        return model
    if optimize not in OPTIMIZATIONS:
        raise ValueError(f"optimize must be one of {OPTIMIZATIONS}, got {optimize!r}")
    if optimize == "openvino":
        from .openvino_tower import use_openvino

        return use_openvino(model)
    if optimize == "onnx-int8":
        from .onnx_int8_tower import use_onnx_int8

        return use_onnx_int8(model)
    import torch._inductor.config as inductor_config

    # Freezing folds the (inference-only) weights into the graph, so oneDNN gets prepacked bf16/fp32 weights.
    # It is process-wide: torch.compile(options={"freezing": True}) is accepted but not applied (torch 2.14).
    inductor_config.freezing = True
    model.vision_model.compile(dynamic=False)
    return model
