"""The one table of model sizes for training from scratch: the released sizes are `ViCLIPConfig.from_preset`'s
("viclip-b16", "viclip-l14"); the small sizes for quick CPU experiments are data here, as overrides of B/16."""

from __future__ import annotations

from typing import Any

from ..modeling import ViCLIPConfig

_SMALL_TEXT = {"hidden_size": 64, "intermediate_size": 256, "num_hidden_layers": 2, "num_attention_heads": 4}

# Overrides of the "viclip-b16" preset; 32x32 frames in 8x8 patches (16 per frame), which train in CPU minutes.
_SMALL_FRAMES = {"image_size": 32, "patch_size": 8}
SCRATCH_SIZES: dict[str, dict[str, Any]] = {
    "tiny": {
        "vision_config": {"hidden_size": 64, "intermediate_size": 256, "num_hidden_layers": 2, "num_attention_heads": 4, **_SMALL_FRAMES},
        "text_config": _SMALL_TEXT,
        "projection_dim": 64,
    },
    "small": {
        "vision_config": {"hidden_size": 128, "intermediate_size": 512, "num_hidden_layers": 4, "num_attention_heads": 4, **_SMALL_FRAMES},
        "text_config": _SMALL_TEXT,
        "projection_dim": 64,
    },
}  # fmt: skip


def model_size_names() -> list[str]:
    """Every size `config_for_size` accepts."""
    return [*SCRATCH_SIZES, "viclip-b16", "viclip-l14"]


def config_for_size(size: str, **overrides: Any) -> ViCLIPConfig:
    """The `ViCLIPConfig` of `size` (a released preset or a small size of `SCRATCH_SIZES`).

    Keyword arguments override top-level fields; ``vision_config`` / ``text_config`` dicts are merged.
    """
    if size not in SCRATCH_SIZES:
        try:
            return ViCLIPConfig.from_preset(size, **overrides)
        except ValueError:
            raise ValueError(
                f"unknown model size {size!r}; choose one of {', '.join(model_size_names())}"
            ) from None
    merged = {k: (dict(v) if isinstance(v, dict) else v) for k, v in SCRATCH_SIZES[size].items()}
    for tower in ("vision_config", "text_config"):
        merged[tower].update(overrides.pop(tower, None) or {})
    merged.update(overrides)
    return ViCLIPConfig.from_preset("viclip-b16", **merged)
