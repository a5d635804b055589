"""Everything about a training run that can be checked before it starts: `validate_run` runs before any synthetic
video is generated, any model is built or anything is written, so that a wrong setting costs nothing.

`TrainingConfig.validate` checks each field and the pairs of fields; this checks the run against the world: the
data it names exists and fits the options, the model config can be built, the resume point exists, and the output
folder does not already hold another run (which a second start would mix into: metrics appended, ``final/``
replaced).
"""

from __future__ import annotations

import glob
import re
from pathlib import Path

from .checkpointing import CheckpointManager
from .config import ConfigError, TrainingConfig

# What a run writes into output_dir (synthetic-data/ is not one: it is reused as it is).
RUN_FILES = ("training_config.yaml", "metrics.jsonl", "final", "checkpoints")
_HUB_ID = re.compile(r"[\w.-]+/[\w.-]+")


def validate_run(config: TrainingConfig, *, check_output_dir: bool = True) -> None:
    """Raises `ConfigError` naming the first problem of ``config`` as a run; reads nothing but file metadata and
    small config files, writes nothing.

    Args:
        check_output_dir: refuse an ``output_dir`` holding a run unless ``resume_from`` is set. Pass ``False`` on
            every process but the main one of a distributed launch (the main one may already have started).
    """
    _check_resume(config)
    _check_data(config)
    _check_model(config)
    if check_output_dir and not config.resume_from:
        existing = existing_run_files(config.output_dir)
        if existing:
            raise ConfigError(
                f"output_dir {config.output_dir} already holds a run ({', '.join(existing)}); continue it with "
                "--resume latest, or give another --output_dir (a second run there would append to its "
                "metrics.jsonl and replace its final/)"
            )


def existing_run_files(output_dir: str | Path) -> list[str]:
    """The files of a run already in ``output_dir`` (see `RUN_FILES`), in that order."""
    folder = Path(output_dir)
    return [name for name in RUN_FILES if (folder / name).exists()]


def _check_data(config: TrainingConfig) -> None:
    if config.train_shards:
        if not config.augment:
            raise ConfigError(
                "augment=false is not available with train_shards (prepared clips are read augmented)"
            )
        _check_local_or_hub(config.train_shards, "train_shards", folder=True)
    elif (
        not config.synthetic
        and not config.train_clips
        and not (config.train_annotations and config.video_root)
    ):
        raise ConfigError(
            "no training data: set train_clips, or train_shards, or train_annotations and video_root, or a "
            "`synthetic` section"
        )
    if config.train_annotations:
        _check_files(config.train_annotations, "train_annotations")
    if config.eval_annotations:
        _check_files(config.eval_annotations, "eval_annotations")
    if config.train_clips:
        _check_caption_list(config.train_clips, config.video_root, "train_clips")
    if config.eval_clips:
        _check_caption_list(config.eval_clips, config.eval_video_root, "eval_clips")
    for name in ("video_root", "eval_video_root"):
        value = getattr(config, name)
        if value and not Path(value).is_dir():
            raise ConfigError(f"{name} {value} is not a folder")


def _check_caption_list(path: str, video_root: str | None, name: str) -> None:
    """A caption list whose every row reads (a missing video is a skipped row later, not an error)."""
    from ..data.caption_list import CaptionListSource

    if not Path(path).is_file():
        raise ConfigError(f"{name} {path} is not a file")
    try:
        CaptionListSource(path, video_root).check()
    except (ValueError, FileNotFoundError) as error:
        raise ConfigError(f"{name}: {error}") from None


def _check_files(pattern: str, name: str) -> None:
    """A local annotation file (or a glob of them) that exists."""
    if glob.has_magic(pattern):
        if not glob.glob(pattern):
            raise ConfigError(f"{name} {pattern}: no file matches")
    elif not Path(pattern).is_file():
        raise ConfigError(f"{name} {pattern} is not a file")


def _check_local_or_hub(value: str, name: str, *, folder: bool) -> None:
    """An existing local folder, or (when nothing is there) something that can be a Hub repo id."""
    path = Path(value)
    if path.exists():
        if folder and not path.is_dir():
            raise ConfigError(f"{name} {value} is a file, not a folder")
    elif not _HUB_ID.fullmatch(value):
        raise ConfigError(f"{name} {value} does not exist (and is not a Hub repo id)")


def _check_model(config: TrainingConfig) -> None:
    """The model config can be built (the weights are loaded later)."""
    from .model_sizes import config_for_size

    if config.init_from:
        _check_local_or_hub(config.init_from, "init_from", folder=True)
        if Path(config.init_from).is_dir() and not (Path(config.init_from) / "config.json").is_file():
            raise ConfigError(f"init_from {config.init_from} is not a saved ViCLIP folder (no config.json)")
        return
    overrides = dict(config.model_config)
    if config.init_from_clip_model:
        extra = sorted(set(overrides) - {"vision_config"})
        if extra:
            raise ConfigError(
                "model_config: with init_from_clip_model only vision_config applies (the sizes are CLIP's), "
                f"got {extra}"
            )
        return
    vision = {**overrides.pop("vision_config", {}), "mask_ratio": config.mask_ratio,
              "drop_path_rate": config.drop_path_rate}  # fmt: skip
    try:
        config_for_size(config.model_size or "viclip-b16", vision_config=vision, **overrides)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"model_size / model_config: {str(error).splitlines()[0]}") from None


def _check_resume(config: TrainingConfig) -> None:
    if not config.resume_from:
        return
    if config.resume_from == "latest":
        if CheckpointManager(config.output_dir).latest() is None:
            raise ConfigError(
                f"--resume latest: no checkpoint in {Path(config.output_dir) / 'checkpoints'} (is --output_dir "
                "the run's folder?)"
            )
    elif not Path(config.resume_from).is_dir():
        raise ConfigError(f"resume_from {config.resume_from}: no such checkpoint folder")
