"""The Accelerator of a training run: mixed precision, trackers, project folders, and the launch checks; and the
figures every process contributes to (skip counts summed over processes)."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

import torch

from .config import TrainingConfig
from .precision import resolve_mixed_precision

if TYPE_CHECKING:
    from accelerate import Accelerator

    from ..data import SkipStats


def resolve_trackers(report_to: str) -> list[str]:
    """The Accelerate trackers `report_to` names (\"auto\": TensorBoard when installed)."""
    if report_to in ("none", "", None):
        return []
    if report_to == "auto":
        from accelerate.utils import is_tensorboard_available

        return ["tensorboard"] if is_tensorboard_available() else []
    return [name.strip() for name in report_to.split(",") if name.strip()]


def make_accelerator(config: TrainingConfig) -> Accelerator:
    """The run's `Accelerator`: the CPU when no accelerator is found, the schedule stepped by hand."""
    from accelerate import Accelerator
    from accelerate.utils import ProjectConfiguration

    has_device = torch.cuda.is_available() or torch.backends.mps.is_available()
    has_device = has_device or (hasattr(torch, "xpu") and torch.xpu.is_available())
    accelerator = Accelerator(
        cpu=not has_device,  # without it, CPU-only processes started by torchrun would not form a group
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        mixed_precision=resolve_mixed_precision(config.mixed_precision),
        log_with=resolve_trackers(config.report_to) or None,
        project_config=ProjectConfiguration(project_dir=config.output_dir, logging_dir=config.output_dir),
        step_scheduler_with_optimizer=False,  # the schedule is in optimiser steps; stepped by hand
    )
    check_process_count(accelerator.num_processes)
    return accelerator


def check_process_count(num_processes: int, environ: dict[str, str] | None = None) -> None:
    """Refuse a launch that asked for several processes but got one (the global batch would silently shrink).

    ``accelerate launch --cpu --num_processes N`` runs its single-process launcher: it sets ``MASTER_ADDR``
    but starts one process without ``WORLD_SIZE``. A ``WORLD_SIZE`` above the processes that joined is the
    same mistake from another launcher.
    """
    environ = os.environ if environ is None else environ
    world_size = int(environ.get("WORLD_SIZE", "0") or 0)
    on_cpu = environ.get("ACCELERATE_USE_CPU", "").lower() in ("1", "true", "yes")
    if num_processes == 1 and on_cpu and "MASTER_ADDR" in environ and not world_size:
        raise RuntimeError(
            "`accelerate launch --cpu --num_processes N` starts only ONE process (Accelerate's CPU launcher), "
            "so the global batch would be N times smaller; for several CPU processes run "
            "`torchrun --nproc_per_node N -m viclip_cli train ...` instead"
        )
    if world_size > num_processes:
        raise RuntimeError(
            f"WORLD_SIZE={world_size} but only {num_processes} process(es) joined the training group; "
            "launch with `accelerate launch` (GPUs) or `torchrun --nproc_per_node N -m viclip_cli train` (CPU)"
        )


def global_skips(stats: SkipStats, accelerator: Accelerator) -> dict[str, int]:
    """Clips delivered and rows skipped by reason, summed over processes (``data/examples``, ``skipped/*``)."""
    counts = stats.counts()
    keys = sorted(k for k in counts if k != "shards_done")
    local = torch.tensor([counts[k] for k in keys], dtype=torch.long, device=accelerator.device)
    total = accelerator.reduce(local, reduction="sum") if accelerator.num_processes > 1 else local
    return {
        ("data/examples" if k == "examples" else f"skipped/{k}"): int(v) for k, v in zip(keys, total.tolist())
    }


def tracker_config(config: TrainingConfig) -> dict[str, Any]:
    """Trackers (TensorBoard hparams) take scalars and strings only."""
    out = {}
    for key, value in config.to_dict().items():
        if isinstance(value, (int, float, str, bool)):
            out[key] = value
        elif value is not None:
            out[key] = json.dumps(value)
    return out
