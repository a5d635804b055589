"""ViCLIP's optimiser and schedule: AdamW with decoupled weight decay on matrices only (optionally with
layer-wise learning-rate decay), cosine with warm-up and a floor. Used by `viclip train` and by
`viclip finetune-classifier`."""

from __future__ import annotations

import math
import re

import torch
from torch import nn
from torch.optim.lr_scheduler import LambdaLR

# The original `no_weight_decay()` sets (ORIGINAL_VICLIP.md): the temperature and the embedding tables of both
# towers, besides every bias and 1-D parameter.
NO_DECAY_NAMES: tuple[str, ...] = (
    "logit_scale",
    "class_embedding",
    "position_embedding",
    "temporal_embedding",
    "token_embedding",
)
_BLOCK = re.compile(r"(?:^|\.)vision_model\.encoder\.layers\.(\d+)\.")
_EMBEDDINGS = re.compile(r"(?:^|\.)vision_model\.(?:embeddings|pre_layernorm)\.")


def is_decayed(name: str, param: nn.Parameter) -> bool:
    """Whether weight decay applies: not to biases, 1-D parameters, the logit scale or embedding tables."""
    if param.ndim < 2 or name.endswith(".bias"):
        return False
    return not any(part in NO_DECAY_NAMES for part in name.split("."))


def layer_id(name: str, num_layers: int) -> int:
    """Depth of a video-tower parameter for layer-wise decay: 0 for the embeddings, ``i + 1`` for block ``i``,
    and ``num_layers + 1`` for everything after the blocks (``post_layernorm``, projections, head, text tower)."""
    if _EMBEDDINGS.search(name):
        return 0
    match = _BLOCK.search(name)
    return int(match.group(1)) + 1 if match else num_layers + 1


def param_groups(
    model: nn.Module,
    weight_decay: float,
    *,
    learning_rate: float | None = None,
    layer_decay: float = 1.0,
) -> list[dict]:
    """AdamW parameter groups over the trainable parameters.

    Without layer decay: two groups, decayed (matrices) and not decayed (see `is_decayed`). With
    ``layer_decay < 1`` (needs `learning_rate`): one group per (depth, decayed) pair of the video tower with
    ``lr = learning_rate * layer_decay ** (num_layers + 1 - depth)`` (see `layer_id`).
    Frozen parameters (``requires_grad=False``) are left out, so a frozen tower costs no optimiser state.
    """
    if layer_decay != 1.0 and learning_rate is None:
        raise ValueError("layer_decay needs learning_rate")
    num_layers = _num_vision_layers(model) if layer_decay != 1.0 else 0
    groups: dict[tuple[int, bool], dict] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        decayed = is_decayed(name, param)
        depth = layer_id(name, num_layers) if layer_decay != 1.0 else 0
        group = groups.get((depth, decayed))
        if group is None:
            group = {"params": [], "weight_decay": weight_decay if decayed else 0.0}
            if layer_decay != 1.0:
                group["lr"] = learning_rate * layer_decay ** (num_layers + 1 - depth)
            groups[(depth, decayed)] = group
        group["params"].append(param)
    if not groups:
        raise ValueError("the model has no trainable parameters (is everything frozen?)")
    if layer_decay == 1.0:  # always the same two groups, decayed first
        return [groups.get((0, True), {"params": [], "weight_decay": weight_decay}),
                groups.get((0, False), {"params": [], "weight_decay": 0.0})]  # fmt: skip
    return [groups[key] for key in sorted(groups, key=lambda k: (k[0], not k[1]))]


def _num_vision_layers(model: nn.Module) -> int:
    config = getattr(model, "config", None)
    vision = getattr(config, "vision_config", config)
    if vision is None or not hasattr(vision, "num_hidden_layers"):
        raise ValueError(f"layer decay needs a ViCLIP model with a vision config, got {type(model).__name__}")
    return vision.num_hidden_layers


def build_optimizer(
    model: nn.Module,
    learning_rate: float = 4e-4,
    betas: tuple[float, float] = (0.9, 0.98),
    eps: float = 1e-6,
    weight_decay: float = 0.2,
    layer_decay: float = 1.0,
) -> torch.optim.AdamW:
    """AdamW with ViCLIP's defaults (lr 4e-4, betas 0.9/0.98, weight decay 0.2 on matrices, see `param_groups`)."""
    groups = param_groups(model, weight_decay, learning_rate=learning_rate, layer_decay=layer_decay)
    return torch.optim.AdamW(groups, lr=learning_rate, betas=tuple(betas), eps=eps)


def cosine_lr_factor(step: int, warmup_steps: int, total_steps: int, min_lr_ratio: float = 0.01) -> float:
    """The learning-rate multiplier at optimiser step ``step`` (0-based).

    Linear warm-up from ``1/warmup_steps`` to 1 over ``warmup_steps`` steps, then a cosine from 1 down to
    ``min_lr_ratio`` at ``total_steps``; it stays at ``min_lr_ratio`` afterwards.
    """
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    decay_steps = max(total_steps - warmup_steps, 1)
    progress = min((step - warmup_steps) / decay_steps, 1.0)
    return min_lr_ratio + (1.0 - min_lr_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


def build_scheduler(
    optimizer: torch.optim.Optimizer, warmup_steps: int, total_steps: int, min_lr_ratio: float = 0.01
) -> LambdaLR:
    """A `LambdaLR` applying :func:`cosine_lr_factor`; step it once per optimiser step."""
    if total_steps < 1:
        raise ValueError(f"total_steps must be >= 1, got {total_steps}")
    if not 0 <= warmup_steps <= total_steps:
        raise ValueError(f"warmup_steps must be in [0, total_steps={total_steps}], got {warmup_steps}")
    if not 0.0 <= min_lr_ratio <= 1.0:
        raise ValueError(f"min_lr_ratio must be in [0, 1], got {min_lr_ratio}")
    return LambdaLR(optimizer, lambda step: cosine_lr_factor(step, warmup_steps, total_steps, min_lr_ratio))
