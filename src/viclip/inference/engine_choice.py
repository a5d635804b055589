"""Which engine runs an embedding or scoring job by default: in this process, or on Ray (decoding tasks + model
actors).

On one machine without a GPU, Ray splits the cores between decoding tasks and a model actor and adds its own
start-up and object-store copies: on 2 cores ``viclip embed`` on Ray ran at 0.46x the in-process path (README).
In process, the model gets every core for its matrix products and decodes between batches. Ray pays off with a
cluster (``ray_address``), with GPUs (decoding in CPU tasks keeps them fed), or with enough cores that decoding
in parallel beats giving the model all of them: :data:`RAY_MIN_CPUS`.

:func:`choose_engine` is pure (the caller passes the machine's counts) and says why it chose;
:func:`choose_engine_settings` applies it to this machine and gives the job's :class:`EngineSettings`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from .engine import EngineSettings

ENGINES = ("local", "ray")
RAY_MIN_CPUS = 8
"""Fewest cores of a GPU-less machine for which the default is Ray: below, the model's share of the cores costs
more than decoding in parallel gains (2 cores: Ray 0.46x); at and above it decoding would starve an in-process
model (one FFmpeg thread per clip between batches). Re-measure with ``benchmarks/bench_engine_default.py`` on
such a machine before moving it."""
RAY_MIN_CLIPS = 64
"""Fewer clips than this run in process: Ray's start-up (seconds) would be most of the job."""


@dataclass(frozen=True)
class EngineChoice:
    """The engine, the cores of each CPU model actor (Ray) or the model's torch threads (local), and why."""

    engine: str
    model_cpus: int
    reason: str

    def summary(self) -> str:
        where = "in this process" if self.engine == "local" else "on Ray"
        return f"engine: {where}, the model on {self.model_cpus} core(s) ({self.reason})"


def choose_engine(
    requested: str | None,
    *,
    cpus: int,
    num_gpus: int = 0,
    ray_address: str | None = None,
    num_clips: int | None = None,
) -> EngineChoice:
    """The engine for a job of ``num_clips`` clips on a machine of ``cpus`` cores and ``num_gpus`` GPUs.

    Args:
        requested: ``"local"`` or ``"ray"`` forces that engine (``--engine``); ``None`` chooses.
        cpus: cores available to the job here (``os.sched_getaffinity``, or the Ray cluster's CPUs).
        num_gpus: GPUs for model actors (each gets one).
        ray_address: a cluster to join: the job runs there.
        num_clips: clips to embed (``None``: unknown, many).
    """
    if requested not in (None, *ENGINES):
        raise ValueError(f"engine must be one of {ENGINES} or None, got {requested!r}")
    if cpus < 1:
        raise ValueError(f"cpus must be at least 1, got {cpus}")
    ray_split = max(1, cpus // 2)  # a CPU model actor's cores; the rest decode
    if requested == "local":
        if ray_address or num_gpus:
            raise ValueError("engine 'local' runs in this process: it takes neither ray_address nor num_gpus")
        return EngineChoice("local", cpus, "--engine local")
    if requested == "ray":
        return EngineChoice("ray", 1 if num_gpus else ray_split, "--engine ray")
    if ray_address:
        return EngineChoice("ray", 1 if num_gpus else ray_split, f"a Ray cluster was given ({ray_address})")
    if num_gpus:
        return EngineChoice("ray", 1, f"{num_gpus} GPU(s): decoding in CPU tasks keeps them fed")
    if num_clips is not None and num_clips < RAY_MIN_CLIPS:
        return EngineChoice("local", cpus, f"{num_clips} clips: Ray's start-up would be most of the job")
    if cpus < RAY_MIN_CPUS:
        return EngineChoice(
            "local",
            cpus,
            f"no GPU and {cpus} core(s): in process the model gets them all (Ray ran 0.46x on 2)",
        )
    return EngineChoice(
        "ray",
        ray_split,
        f"no GPU and {cpus} cores: {cpus - ray_split} decode in parallel while the model runs",
    )


def machine_cpus() -> int:
    """Cores this process may run on (its CPU affinity, e.g. a container's or ``taskset``'s share)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def choose_engine_settings(
    requested: str | None,
    *,
    ray_address: str | None = None,
    num_gpus: int = 0,
    num_cpu_actors: int = 1,
    cpus_per_actor: int | None = None,
    batch_size: int = 8,
    num_clips: int | None = None,
) -> tuple[EngineSettings, EngineChoice]:
    """The :class:`EngineSettings` of a job on this machine (:func:`choose_engine` with its cores), and the choice.

    Args:
        requested: ``"local"``, ``"ray"``, or ``None``/``"auto"`` to choose.
        cpus_per_actor: cores of each model actor on Ray; ``None``: the choice's (half the cores, 1 with GPUs).
        num_clips: clips to embed (``None``: unknown, many).
    """
    choice = choose_engine(
        None if requested == "auto" else requested,
        cpus=machine_cpus(),
        num_gpus=num_gpus,
        ray_address=ray_address,
        num_clips=num_clips,
    )
    if cpus_per_actor is not None and choice.engine == "ray":
        choice = replace(choice, model_cpus=cpus_per_actor)
    settings = EngineSettings(
        runner=choice.engine,
        ray_address=ray_address,
        num_gpus=num_gpus,
        num_cpu_actors=num_cpu_actors,
        cpus_per_actor=choice.model_cpus if choice.engine == "ray" else 1,
        batch_size=batch_size,
    )
    return settings, choice
