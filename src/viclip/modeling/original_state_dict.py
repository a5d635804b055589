"""Exact, strict mapping between the original ViCLIP state dict and `ViCLIPModel`'s.

The original (OpenGVLab/InternVideo) keeps `vision_encoder.*`, `text_encoder.*` and a temperature `temp`; attention
projections are packed (`in_proj_weight`), projections are right-multiplied matrices. Every original key is used
exactly once and every model key is filled, or a `StateDictMismatchError` lists what is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import torch

from ..errors import ViCLIPError
from .configuration_viclip import ViCLIPConfig

__all__ = [
    "StateDictMismatchError",
    "convert_original_state_dict",
    "expected_model_shapes",
    "to_original_state_dict",
]

# (original suffix, model suffix) inside one residual block, besides the packed in-projection.
_BLOCK_RENAMES = [
    ("attn.out_proj.weight", "self_attn.out_proj.weight"),
    ("attn.out_proj.bias", "self_attn.out_proj.bias"),
    ("ln_1.weight", "layer_norm1.weight"),
    ("ln_1.bias", "layer_norm1.bias"),
    ("ln_2.weight", "layer_norm2.weight"),
    ("ln_2.bias", "layer_norm2.bias"),
    ("mlp.c_fc.weight", "mlp.fc1.weight"),
    ("mlp.c_fc.bias", "mlp.fc1.bias"),
    ("mlp.c_proj.weight", "mlp.fc2.weight"),
    ("mlp.c_proj.bias", "mlp.fc2.bias"),
]
# (original key, model key) outside the blocks; `transposed` ones are (in, out) matrices in the original.
_TOP_RENAMES = [
    ("vision_encoder.class_embedding", "vision_model.embeddings.class_embedding"),
    ("vision_encoder.positional_embedding", "vision_model.embeddings.position_embedding.weight"),
    ("vision_encoder.temporal_positional_embedding", "vision_model.embeddings.temporal_embedding"),
    ("vision_encoder.conv1.weight", "vision_model.embeddings.patch_embedding.weight"),
    ("vision_encoder.ln_pre.weight", "vision_model.pre_layernorm.weight"),
    ("vision_encoder.ln_pre.bias", "vision_model.pre_layernorm.bias"),
    ("vision_encoder.ln_post.weight", "vision_model.post_layernorm.weight"),
    ("vision_encoder.ln_post.bias", "vision_model.post_layernorm.bias"),
    ("text_encoder.token_embedding.weight", "text_model.embeddings.token_embedding.weight"),
    ("text_encoder.positional_embedding", "text_model.embeddings.position_embedding.weight"),
    ("text_encoder.ln_final.weight", "text_model.final_layer_norm.weight"),
    ("text_encoder.ln_final.bias", "text_model.final_layer_norm.bias"),
]
_TRANSPOSED = [
    ("vision_encoder.proj", "visual_projection.weight"),
    ("text_encoder.text_projection", "text_projection.weight"),
]
_TOWERS = [("vision_encoder", "vision_model", "vision_config"), ("text_encoder", "text_model", "text_config")]
_BLOCK_KEY = re.compile(r"^(vision_encoder|text_encoder)\.transformer\.resblocks\.(\d+)\.(.+)$")


class StateDictMismatchError(ViCLIPError, ValueError):
    """The state dict does not fit the configuration: missing, unexpected or mis-shaped keys (all listed)."""


def expected_model_shapes(config: ViCLIPConfig) -> dict[str, tuple[int, ...]]:
    """Key -> shape of `ViCLIPModel(config)`'s state dict, computed without allocating weights."""
    from .modeling_viclip import ViCLIPModel

    with torch.device("meta"):
        model = ViCLIPModel(config)
    return {key: tuple(tensor.shape) for key, tensor in model.state_dict().items()}


def _format_keys(title: str, keys: list[str], limit: int = 20) -> str:
    shown = ", ".join(keys[:limit]) + (f", ... ({len(keys) - limit} more)" if len(keys) > limit else "")
    return f"{title} ({len(keys)}): {shown}"


def _raise_if_problems(missing: list[str], unexpected: list[str], mismatched: list[str], what: str) -> None:
    problems = []
    if missing:
        problems.append(_format_keys("missing keys", sorted(missing)))
    if unexpected:
        problems.append(_format_keys("unexpected keys", sorted(unexpected)))
    if mismatched:
        problems.append(_format_keys("shape mismatches", mismatched))
    if problems:
        raise StateDictMismatchError(f"{what} does not match the configuration; " + "; ".join(problems))


def convert_original_state_dict(
    state_dict: Mapping[str, torch.Tensor], config: ViCLIPConfig
) -> dict[str, torch.Tensor]:
    """Maps an original ViCLIP state dict (the tensors inside the released `{'model': ...}`) to `ViCLIPModel`'s.

    Strict: every original key is used exactly once, every model key is filled and every shape is checked against
    `config`; otherwise a `StateDictMismatchError` lists the offending keys.
    """
    expected = expected_model_shapes(config)
    source = dict(state_dict)
    converted: dict[str, torch.Tensor] = {}
    used: set[str] = set()

    def take(key: str) -> torch.Tensor | None:
        if key in source:
            used.add(key)
            return source[key]
        return None

    for original, target in _TOP_RENAMES:
        if (tensor := take(original)) is not None:
            converted[target] = tensor
    for original, target in _TRANSPOSED:
        if (tensor := take(original)) is not None:
            converted[target] = tensor.t().contiguous() if tensor.ndim == 2 else tensor
    if (temp := take("temp")) is not None:
        # logit_scale = log(1 / temp), computed in float64 so the round trip is exact up to float rounding.
        converted["logit_scale"] = (-torch.log(temp.double())).to(temp.dtype).reshape(())

    for key in list(source):
        match = _BLOCK_KEY.match(key)
        if match is None:
            continue
        tower, index, suffix = match.groups()
        prefix = f"{'vision_model' if tower == 'vision_encoder' else 'text_model'}.encoder.layers.{index}"
        if suffix in ("attn.in_proj_weight", "attn.in_proj_bias"):
            tensor = take(key)
            kind = suffix.rsplit("_", 1)[1]  # "weight" or "bias"
            if tensor.shape[0] % 3 != 0:
                continue  # reported as a shape mismatch below (the q/k/v keys stay missing)
            for name, chunk in zip(("q_proj", "k_proj", "v_proj"), tensor.chunk(3, dim=0)):
                converted[f"{prefix}.self_attn.{name}.{kind}"] = chunk.contiguous()
            continue
        for original_suffix, model_suffix in _BLOCK_RENAMES:
            if suffix == original_suffix:
                converted[f"{prefix}.{model_suffix}"] = take(key)
                break

    unexpected = [key for key in source if key not in used]
    unexpected += [key for key in converted if key not in expected]
    missing = [key for key in expected if key not in converted]
    mismatched = [
        f"{key} {tuple(converted[key].shape)} (expected {expected[key]})"
        for key in expected
        if key in converted and tuple(converted[key].shape) != expected[key]
    ]
    for key in source:
        if (
            key in used
            and _BLOCK_KEY.match(key)
            and key.endswith("in_proj_weight")
            and source[key].shape[0] % 3
        ):
            mismatched.append(f"{key} {tuple(source[key].shape)} (first dimension not divisible by 3)")
    _raise_if_problems(missing, unexpected, mismatched, "original ViCLIP state dict")
    return {key: converted[key] for key in expected}


def to_original_state_dict(
    state_dict: Mapping[str, torch.Tensor], config: ViCLIPConfig
) -> dict[str, torch.Tensor]:
    """The inverse of `convert_original_state_dict`: a `ViCLIPModel` state dict -> the original layout, loadable
    strictly by the original code (`temp` = exp(-logit_scale), exact up to float rounding)."""
    expected = expected_model_shapes(config)
    source = dict(state_dict)
    missing = [key for key in expected if key not in source]
    unexpected = [key for key in source if key not in expected]
    mismatched = [
        f"{key} {tuple(source[key].shape)} (expected {shape})"
        for key, shape in expected.items()
        if key in source and tuple(source[key].shape) != shape
    ]
    _raise_if_problems(missing, unexpected, mismatched, "ViCLIPModel state dict")

    original: dict[str, torch.Tensor] = {}
    logit_scale = source["logit_scale"]
    original["temp"] = torch.exp(-logit_scale.double()).to(logit_scale.dtype).reshape(())
    for original_key, model_key in _TOP_RENAMES:
        original[original_key] = source[model_key]
    for original_key, model_key in _TRANSPOSED:
        original[original_key] = source[model_key].t().contiguous()
    for original_tower, model_tower, config_key in _TOWERS:
        for index in range(getattr(config, config_key).num_hidden_layers):
            block = f"{original_tower}.transformer.resblocks.{index}"
            layer = f"{model_tower}.encoder.layers.{index}"
            for kind in ("weight", "bias"):
                parts = [
                    source[f"{layer}.self_attn.{name}.{kind}"] for name in ("q_proj", "k_proj", "v_proj")
                ]
                original[f"{block}.attn.in_proj_{kind}"] = torch.cat(parts, dim=0)
            for original_suffix, model_suffix in _BLOCK_RENAMES:
                original[f"{block}.{original_suffix}"] = source[f"{layer}.{model_suffix}"]
    return original
