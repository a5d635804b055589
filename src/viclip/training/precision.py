"""One mixed-precision policy for `viclip train` (Accelerate) and `viclip finetune-classifier` (Trainer)."""

from __future__ import annotations

MIXED_PRECISION_MODES: tuple[str, ...] = ("auto", "bf16", "fp16", "no")


def resolve_mixed_precision(mode: str) -> str:
    """``"bf16"``, ``"fp16"`` or ``"no"`` for `mode`.

    ``"auto"`` is bf16 on a CUDA GPU that supports it, fp16 on an older CUDA GPU, and full precision
    elsewhere (CPU autocast is slower than float32 on most CPUs). Other modes are returned as they are.
    """
    if mode not in MIXED_PRECISION_MODES:
        raise ValueError(f"mixed_precision must be one of {', '.join(MIXED_PRECISION_MODES)}, got {mode!r}")
    if mode != "auto":
        return mode
    import torch

    if not torch.cuda.is_available():
        return "no"
    return "bf16" if torch.cuda.is_bf16_supported() else "fp16"


def trainer_precision_flags(mode: str) -> dict[str, bool]:
    """The ``bf16``/``fp16`` arguments of `transformers.TrainingArguments` for `mode`."""
    resolved = resolve_mixed_precision(mode)
    return {"bf16": resolved == "bf16", "fp16": resolved == "fp16"}
