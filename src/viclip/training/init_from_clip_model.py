"""Initialise ViCLIP from a transformers `CLIPModel`, as ViCLIP was made from OpenAI CLIP.

- The 2-D patch conv ``(D, C, p, p)`` becomes the Conv3d kernel ``(D, C, 1, p, p)`` (applied per frame).
- The temporal position table starts at zero, so a ViCLIP made from CLIP embeds a one-frame video
  exactly like CLIP embeds the image.
- The text position table is cut to ViCLIP's 32 positions.
- Attention q/k/v/out projections map one to one (both transformers CLIP and ViCLIP keep them split);
  ``pre_layrnorm`` is renamed ``pre_layernorm``.
- Spatial position embeddings are resized bicubically when the ViCLIP frame size differs from CLIP's.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from ..modeling import ViCLIPConfig, ViCLIPModel

_RENAMES = {"vision_model.pre_layrnorm.": "vision_model.pre_layernorm."}


def viclip_config_from_clip_model(
    clip_config: Any, max_position_embeddings: int = 32, **vision_overrides: Any
) -> ViCLIPConfig:
    """The `ViCLIPConfig` with the sizes of a transformers `CLIPConfig` (text context cut to 32); `vision_overrides`
    set other vision fields (``num_frames``: `ViCLIPVisionConfig`'s default; ``image_size``: CLIP's)."""
    vision, text = clip_config.vision_config, clip_config.text_config
    vision_config = {
        name: getattr(vision, name)
        for name in ("hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                     "image_size", "patch_size", "num_channels", "hidden_act", "layer_norm_eps")
    }  # fmt: skip
    vision_config.update(vision_overrides)
    text_config = {
        name: getattr(text, name)
        for name in ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
                     "num_attention_heads", "hidden_act", "layer_norm_eps",
                     "pad_token_id", "bos_token_id", "eos_token_id")
    }  # fmt: skip
    if max_position_embeddings > text.max_position_embeddings:
        raise ValueError(
            f"max_position_embeddings={max_position_embeddings} exceeds CLIP's text context "
            f"({text.max_position_embeddings})"
        )
    text_config["max_position_embeddings"] = max_position_embeddings
    return ViCLIPConfig(
        vision_config=vision_config,
        text_config=text_config,
        projection_dim=clip_config.projection_dim,
        logit_scale_init_value=min(clip_config.logit_scale_init_value, math.log(100.0)),
    )


def _resize_positions(table: torch.Tensor, new_grid: int) -> torch.Tensor:
    """``(1 + g*g, D)`` -> ``(1 + n*n, D)``: the CLS row kept, the grid resized bicubically."""
    cls_row, grid = table[:1], table[1:]
    old_grid = math.isqrt(grid.shape[0])
    if old_grid * old_grid != grid.shape[0]:
        raise ValueError(f"CLIP position table has {grid.shape[0]} patch rows, not a square grid")
    grid = grid.reshape(1, old_grid, old_grid, -1).permute(0, 3, 1, 2).float()
    grid = F.interpolate(grid, size=(new_grid, new_grid), mode="bicubic", align_corners=False)
    grid = grid.permute(0, 2, 3, 1).reshape(new_grid * new_grid, -1).to(table.dtype)
    return torch.cat([cls_row, grid])


def clip_model_state_dict_to_viclip(
    clip_state_dict: dict[str, torch.Tensor], config: ViCLIPConfig
) -> dict[str, torch.Tensor]:
    """Map a transformers `CLIPModel` state dict onto ViCLIP parameter names and shapes for `config`."""
    out: dict[str, torch.Tensor] = {}
    for name, tensor in clip_state_dict.items():
        if name.endswith("position_ids"):
            continue
        for old, new in _RENAMES.items():
            if name.startswith(old):
                name = new + name[len(old) :]
        if name == "vision_model.embeddings.patch_embedding.weight":
            tensor = tensor.unsqueeze(2)  # (D, C, p, p) -> (D, C, 1, p, p)
        elif name == "text_model.embeddings.position_embedding.weight":
            tensor = tensor[: config.text_config.max_position_embeddings]
        elif name == "vision_model.embeddings.position_embedding.weight":
            grid = config.vision_config.image_size // config.vision_config.patch_size
            if tensor.shape[0] != grid * grid + 1:
                tensor = _resize_positions(tensor, grid)
        elif name == "logit_scale":
            tensor = tensor.clamp(max=config.logit_scale_max)
        out[name] = tensor
    vision = config.vision_config
    out["vision_model.embeddings.temporal_embedding"] = torch.zeros(1, vision.num_frames, vision.hidden_size)
    return out


def viclip_from_clip_model(
    clip_model: Any,
    processor: Any = None,
    *,
    max_position_embeddings: int = 32,
    **vision_overrides: Any,
) -> ViCLIPModel:
    """A `ViCLIPModel` initialised from a transformers `CLIPModel` (an instance, a folder or a Hub id).

    Args:
        clip_model: the CLIP model.
        processor: the processor the new model will be fed by: its frame count and frame size become the model's.
            Without it, ``num_frames`` / ``image_size`` in `vision_overrides` (or `ViCLIPVisionConfig`'s frame
            count and CLIP's frame size); giving both is an error.
        max_position_embeddings: text positions kept (ViCLIP's 32).
        vision_overrides: other fields of the vision config (``mask_ratio``, ``drop_path_rate``, ...).

    Raises a ValueError listing the parameters that did not map (missing or unexpected).
    """
    if processor is not None:
        vision_overrides = {**vision_overrides, **_frames_of(processor, vision_overrides)}
    if isinstance(clip_model, str):
        from transformers import CLIPModel

        clip_model = CLIPModel.from_pretrained(clip_model)
    config = viclip_config_from_clip_model(clip_model.config, max_position_embeddings, **vision_overrides)
    state_dict = clip_model_state_dict_to_viclip(clip_model.state_dict(), config)
    model = ViCLIPModel(config)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(expected))
    wrong_shape = [k for k in set(expected) & set(state_dict) if expected[k].shape != state_dict[k].shape]
    if missing or unexpected or wrong_shape:
        raise ValueError(
            "CLIP -> ViCLIP mapping failed: "
            f"missing {missing[:5]}, unexpected {unexpected[:5]}, wrong shape {sorted(wrong_shape)[:5]}"
        )
    model.load_state_dict(state_dict, strict=True)
    return model


def _frames_of(processor: Any, vision_overrides: dict[str, Any]) -> dict[str, int]:
    """``num_frames`` and ``image_size`` of the frames `processor` gives; refused next to the same overrides."""
    from ..data.model_processor import processor_frames, processor_size

    clashing = sorted({"num_frames", "image_size"} & set(vision_overrides))
    if clashing:
        raise ValueError(
            f"give either processor or {' and '.join(clashing)} (the processor carries them), not both"
        )
    frames = {"num_frames": processor_frames(processor)}
    size = processor_size(processor)
    if size is not None:
        if size[0] != size[1]:
            raise ValueError(f"the processor gives {size[0]}x{size[1]} frames; ViCLIP takes square frames")
        frames["image_size"] = size[0]
    return frames
