# Copyright 2026 The viclip authors. Licensed under the Apache License, Version 2.0.
"""ViCLIP model configuration (transformers 5 dataclass configs with CLIP's field names).

This file is copied into Hub folders as remote code: it imports only transformers and the standard library.
"""

import math

from huggingface_hub.dataclasses import strict
from transformers.configuration_utils import PreTrainedConfig


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


@strict(accept_kwargs=True)
class ViCLIPVisionConfig(PreTrainedConfig):
    r"""
    Configuration of the ViCLIP video tower: a CLIP ViT whose patch embedding is a Conv3d with kernel (1, p, p)
    and which adds a temporal position table to the patch tokens before joint space-time attention.
    Defaults are ViCLIP-L/14.

    Args:
        hidden_size: width of the transformer.
        intermediate_size: width of the MLP.
        num_hidden_layers: number of transformer blocks.
        num_attention_heads: attention heads per block.
        image_size: side of the (square) input frames, in pixels.
        patch_size: side of a patch, in pixels.
        num_frames: frames per clip the temporal table was trained for.
        num_channels: input channels.
        hidden_act: MLP activation (QuickGELU in the original).
        layer_norm_eps: LayerNorm epsilon.
        attention_dropout: dropout on attention weights (training only).
        drop_path_rate: stochastic depth at the last block, rising linearly from 0 at the first (training only).
        mask_ratio: share of patch tokens dropped at random per clip in training mode (0.9 in ViCLIP
            pretraining). Never applied in eval mode.
        initializer_range: std of the normal init of the patch and position embeddings.
        initializer_factor: scale of every init std (1.0 for normal use).
    """

    model_type = "viclip_vision_model"
    base_config_key = "vision_config"

    hidden_size: int = 1024
    intermediate_size: int = 4096
    num_hidden_layers: int = 24
    num_attention_heads: int = 16
    image_size: int = 224
    patch_size: int = 14
    num_frames: int = 8
    num_channels: int = 3
    hidden_act: str = "quick_gelu"
    layer_norm_eps: float = 1e-5
    attention_dropout: float = 0.0
    drop_path_rate: float = 0.0
    mask_ratio: float = 0.0
    initializer_range: float = 0.02
    initializer_factor: float = 1.0

    def validate_architecture(self):
        """Raises a ValueError naming the first inconsistent size."""
        _check(
            self.hidden_size % self.num_attention_heads == 0,
            f"vision hidden_size ({self.hidden_size}) is not divisible by num_attention_heads "
            f"({self.num_attention_heads}).",
        )
        _check(
            self.image_size % self.patch_size == 0,
            f"vision image_size ({self.image_size}) is not divisible by patch_size ({self.patch_size}).",
        )
        for name in ("hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                     "image_size", "patch_size", "num_frames", "num_channels"):  # fmt: skip
            _check(getattr(self, name) > 0, f"vision {name} must be positive, got {getattr(self, name)}.")
        _check(0.0 <= self.mask_ratio < 1.0, f"vision mask_ratio must be in [0, 1), got {self.mask_ratio}.")
        _check(
            0.0 <= self.drop_path_rate < 1.0,
            f"vision drop_path_rate must be in [0, 1), got {self.drop_path_rate}.",
        )

    @property
    def num_patches(self) -> int:
        """Patches per frame."""
        return (self.image_size // self.patch_size) ** 2


@strict(accept_kwargs=True)
class ViCLIPTextConfig(PreTrainedConfig):
    r"""
    Configuration of the ViCLIP text tower: the OpenAI CLIP text transformer with a context of 32 tokens.
    Defaults are ViCLIP-L/14's text tower.

    Args:
        vocab_size: size of the BPE vocabulary.
        hidden_size: width of the transformer.
        intermediate_size: width of the MLP.
        num_hidden_layers: number of transformer blocks.
        num_attention_heads: attention heads per block.
        max_position_embeddings: context length (32 in ViCLIP).
        hidden_act: MLP activation (QuickGELU in the original).
        layer_norm_eps: LayerNorm epsilon.
        attention_dropout: dropout on attention weights (training only).
        initializer_range: std of the normal init of the embeddings.
        initializer_factor: scale of every init std.
        pad_token_id / bos_token_id / eos_token_id: special token ids of the tokenizer.
    """

    model_type = "viclip_text_model"
    base_config_key = "text_config"

    vocab_size: int = 49408
    hidden_size: int = 768
    intermediate_size: int = 3072
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    max_position_embeddings: int = 32
    hidden_act: str = "quick_gelu"
    layer_norm_eps: float = 1e-5
    attention_dropout: float = 0.0
    initializer_range: float = 0.02
    initializer_factor: float = 1.0
    pad_token_id: int | None = 49407
    bos_token_id: int | None = 49406
    eos_token_id: int | None = 49407

    def validate_architecture(self):
        """Raises a ValueError naming the first inconsistent size."""
        _check(
            self.hidden_size % self.num_attention_heads == 0,
            f"text hidden_size ({self.hidden_size}) is not divisible by num_attention_heads "
            f"({self.num_attention_heads}).",
        )
        for name in ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
                     "num_attention_heads", "max_position_embeddings"):  # fmt: skip
            _check(getattr(self, name) > 0, f"text {name} must be positive, got {getattr(self, name)}.")


# Sizes of the released checkpoints (ORIGINAL_VICLIP.md); the text tower is OpenAI CLIP's at context 32.
PRESETS: dict[str, dict] = {
    "viclip-l14": {
        "vision_config": {"hidden_size": 1024, "intermediate_size": 4096, "num_hidden_layers": 24,
                          "num_attention_heads": 16, "patch_size": 14},
        "text_config": {"hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12,
                        "num_attention_heads": 12},
        "projection_dim": 768,
    },
    "viclip-b16": {
        "vision_config": {"hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12,
                          "num_attention_heads": 12, "patch_size": 16},
        "text_config": {"hidden_size": 512, "intermediate_size": 2048, "num_hidden_layers": 12,
                        "num_attention_heads": 8},
        "projection_dim": 512,
    },
}  # fmt: skip
PRESET_ALIASES = {"l": "viclip-l14", "l14": "viclip-l14", "b": "viclip-b16", "b16": "viclip-b16"}


@strict(accept_kwargs=True)
class ViCLIPConfig(PreTrainedConfig):
    r"""
    Configuration of [`ViCLIPModel`]: a video tower, a text tower and a learned temperature.
    Defaults are ViCLIP-L/14; `ViCLIPConfig.from_preset("viclip-b16")` gives ViCLIP-B/16.

    Args:
        text_config: dict or [`ViCLIPTextConfig`].
        vision_config: dict or [`ViCLIPVisionConfig`].
        projection_dim: size of the joint video-text embedding space.
        logit_scale_init_value: initial `log(1 / temperature)`; the original initialises the temperature at 0.01.
        logit_scale_max: upper clamp of the logit scale (the original clamps the temperature at >= 0.01).
    """

    model_type = "viclip"
    sub_configs_defaults = {"text_config": ViCLIPTextConfig, "vision_config": ViCLIPVisionConfig}

    text_config: dict | ViCLIPTextConfig | None = None
    vision_config: dict | ViCLIPVisionConfig | None = None
    projection_dim: int = 768
    logit_scale_init_value: float = math.log(100.0)
    logit_scale_max: float = math.log(100.0)
    initializer_factor: float = 1.0

    def validate_architecture(self):
        """Raises a ValueError naming the first inconsistent size."""
        _check(self.projection_dim > 0, f"projection_dim must be positive, got {self.projection_dim}.")
        _check(
            self.logit_scale_init_value <= self.logit_scale_max,
            f"logit_scale_init_value ({self.logit_scale_init_value}) exceeds logit_scale_max ({self.logit_scale_max}).",
        )

    @classmethod
    def from_dict(cls, config_dict: dict, **kwargs):
        """As `PreTrainedConfig.from_dict`; a tower's own config (a saved `ViCLIPVisionModel` or `ViCLIPTextModel`)
        becomes that tower of a `ViCLIPConfig` with default projection, so the with-projection models load it."""
        tower = {ViCLIPVisionConfig.model_type: "vision_config", ViCLIPTextConfig.model_type: "text_config"}
        key = tower.get(config_dict.get("model_type"))
        if key is not None:
            config_dict = {key: config_dict, "model_type": cls.model_type}
        return super().from_dict(config_dict, **kwargs)

    @classmethod
    def from_preset(cls, name: str, **kwargs) -> "ViCLIPConfig":
        """The configuration of a released size: "viclip-l14" (or "l", "l14") or "viclip-b16" (or "b", "b16").

        Keyword arguments override top-level fields; `vision_config` / `text_config` dicts are merged into the preset's.
        """
        key = PRESET_ALIASES.get(name.lower(), name.lower())
        if key not in PRESETS:
            raise ValueError(f"unknown ViCLIP preset {name!r}; choose one of {sorted(PRESETS)}.")
        preset = {k: (dict(v) if isinstance(v, dict) else v) for k, v in PRESETS[key].items()}
        for tower in ("vision_config", "text_config"):
            preset[tower].update(kwargs.pop(tower, None) or {})
        preset.update(kwargs)
        return cls(**preset)


__all__ = ["ViCLIPConfig", "ViCLIPTextConfig", "ViCLIPVisionConfig"]
