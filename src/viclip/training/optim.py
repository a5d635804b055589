"""ViCLIP's optimiser and schedule: AdamW with decoupled weight decay on matrices only, cosine with
warm-up and a floor."""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch import nn
from torch.optim.lr_scheduler import LambdaLR

NO_DECAY_NAMES: tuple[str, ...] = ("logit_scale",)


def param_groups(
    model: nn.Module, weight_decay: float, no_decay_names: Iterable[str] = NO_DECAY_NAMES
) -> list[dict]:
    """Two AdamW groups over the trainable parameters: decayed (matrices and higher) and not decayed
    (biases, every 1-D parameter such as LayerNorm weights and the class embedding, and the logit scale).

    Frozen parameters (``requires_grad=False``) are left out, so a frozen text tower costs no optimiser state.
    """
    no_decay_names = tuple(no_decay_names)
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        leaf = name.rsplit(".", 1)[-1]
        if param.ndim < 2 or leaf == "bias" or leaf in no_decay_names:
            no_decay.append(param)
        else:
            decay.append(param)
    if not decay and not no_decay:
        raise ValueError("the model has no trainable parameters (is everything frozen?)")
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


def build_optimizer(
    model: nn.Module,
    learning_rate: float = 4e-4,
    betas: tuple[float, float] = (0.9, 0.98),
    eps: float = 1e-6,
    weight_decay: float = 0.2,
) -> torch.optim.AdamW:
    """AdamW with ViCLIP's defaults (lr 4e-4, betas 0.9/0.98, weight decay 0.2 except 1-D params and the scale)."""
    return torch.optim.AdamW(param_groups(model, weight_decay), lr=learning_rate, betas=tuple(betas), eps=eps)


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
