"""`TrainingConfig`: every setting of a ViCLIP training run, with the ViCLIP recipe as defaults.

A config is a flat YAML or JSON file of `TrainingConfig` fields (or the name of a built-in config, see
`builtin_config_names`) plus ``--key value`` overrides, both read by `transformers.HfArgumentParser`:
``--learning-rate 1e-4``, ``--freeze-text false`` (or ``--no-freeze-text``), ``--betas 0.9 0.95``,
``--model-config '{"projection_dim": 64}'``; underscores are accepted in names too (``--learning_rate``).
The settings `viclip finetune-classifier` shares have the same names there (`FinetuneConfig`).
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import ViCLIPError
from .precision import MIXED_PRECISION_MODES

BUILTIN_CONFIGS = Path(__file__).parent / "configs"


class ConfigError(ViCLIPError, ValueError):
    """A training config that cannot be used (unknown key, wrong type, missing file)."""


@dataclass
class TrainingConfig:
    """Settings of `viclip train`. Defaults follow ViCLIP pretraining (ORIGINAL_VICLIP.md, "Training recipe").

    New fields need a default and one of the types `HfArgumentParser` reads (``str``, ``int``, ``float``,
    ``bool``, ``X | None``, ``list[X]``; a mapping is ``dict | str | None``, given as JSON on the command line).
    """

    # --- model ---
    model_size: str | None = None
    """Size when training from scratch (default "viclip-b16"): "viclip-b16", "viclip-l14", or a small size ("tiny",
    "small"; see `viclip.training.model_sizes`). Not with `init_from` / `init_from_clip_model`."""
    model_config: dict | str | None = None
    """The new model's config: overrides of the preset (top-level fields and ``vision_config`` / ``text_config``
    dicts), or with `init_from_clip_model` of ``vision_config`` only. Its ``vision_config.num_frames`` and
    ``image_size`` are the frames the run trains on (the processor is built from them). Not with `init_from`
    (the folder's config decides)."""
    init_from: str | None = None
    """A converted ViCLIP folder (or Hub id) to fine-tune; the run trains on its processor's frames."""
    init_from_clip_model: str | None = None
    """A transformers `CLIPModel` folder (or Hub id) to initialise from, as ViCLIP was made."""
    mask_ratio: float = 0.9
    """Share of patch tokens dropped in training; set in the model's config when it is built."""
    drop_path_rate: float = 0.1
    """Stochastic depth at the last video block; set in the model's config when it is built."""
    freeze_text: bool = True
    """Freeze the text tower and its projection (ViCLIP pretraining keeps CLIP's text tower)."""
    gradient_checkpointing: bool = True
    attn_implementation: str = "sdpa"
    mixed_precision: str = "auto"
    """"auto" (bf16 where the GPU has it, else fp16 on CUDA, else none), "bf16", "fp16" or "no"."""

    # --- data ---
    train_annotations: str | None = None
    """InternVid-format JSON Lines (or a dataset `load_internvid` accepts)."""
    train_clips: str | None = None
    """A caption list instead: ``path,start_sec,end_sec,caption`` CSV/TSV/JSON Lines (`viclip.data.load_clips`);
    relative paths against `video_root`, else the list's folder."""
    video_root: str | None = None
    train_shards: str | None = None
    """Training-ready shards (`viclip prepare`'s folder, or a Hub dataset repo) instead of
    `train_annotations` + `video_root`: read by `viclip.data.load_prepared`, each process its own shard files."""
    eval_annotations: str | None = None
    """Held-out split for periodic retrieval evaluation."""
    eval_clips: str | None = None
    """A held-out caption list instead (relative paths against `eval_video_root`, else the list's folder)."""
    eval_video_root: str | None = None
    """Defaults to `video_root`."""
    num_workers: int = 0
    """DataLoader workers. With 0, resuming reproduces the uninterrupted run exactly."""
    clean_captions: bool = False
    augment: bool = True
    """RandomResizedCrop + horizontal flip of training clips; turn off when captions name left/right."""
    cache_examples: bool = False
    """Decode the training split once and keep it in memory (small datasets; later epochs reshuffle it)."""
    shuffle_buffer: int = 0
    """Streaming shuffle buffer (0: annotation order)."""
    synthetic: dict | str | None = None
    """Generate a synthetic moving-shapes dataset first: arguments of
    `viclip.data.synthetic.generate_synthetic_internvid` plus ``out_dir``; train/eval paths are filled in."""

    # --- optimisation ---
    learning_rate: float = 4e-4
    betas: list[float] = field(default_factory=lambda: [0.9, 0.98])
    adam_eps: float = 1e-6
    weight_decay: float = 0.2
    layer_decay: float = 1.0
    """Layer-wise learning-rate decay of the video tower (1: none, as in ViCLIP pretraining)."""
    warmup_steps: int | None = None
    """Optimiser steps of linear warm-up; `None` uses `warmup_ratio`."""
    warmup_ratio: float = 0.05
    """Share of `max_steps` for warm-up (ViCLIP: 0.5 of 10 epochs)."""
    min_lr_ratio: float = 0.01
    max_grad_norm: float | None = None
    """ViCLIP does not clip gradients."""
    per_device_batch_size: int = 32
    gradient_accumulation_steps: int = 1
    max_steps: int = 1000
    """Optimiser steps."""

    # --- run, checkpoints ---
    output_dir: str = "runs/viclip"
    seed: int = 42
    save_steps: int = 1000
    """Checkpoint every N optimiser steps (0: only the final model)."""
    save_total_limit: int = 3
    """Keep the last K checkpoints."""
    resume_from: str | None = None
    """"latest" or a checkpoint folder."""

    # --- logging, evaluation ---
    logging_steps: int = 10
    report_to: str = "auto"
    """"auto" (TensorBoard when installed), "none", or an Accelerate tracker name ("tensorboard", "wandb", ...)."""
    project_name: str = "viclip"
    eval_steps: int = 0
    """Retrieval evaluation every N optimiser steps (0: only at the end, when `eval_annotations` is set)."""
    eval_batch_size: int = 32
    eval_max_clips: int | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        self.model_config = _mapping(self.model_config, "model_config") or {}
        self.synthetic = _mapping(self.synthetic, "synthetic")
        _check_types(self)
        self.betas = [float(b) for b in self.betas]
        self.validate()

    def validate(self) -> None:
        """Raises `ConfigError` naming the first bad field."""
        checks = [
            (0.0 <= self.mask_ratio < 1.0, f"mask_ratio must be in [0, 1), got {self.mask_ratio}"),
            (0.0 <= self.drop_path_rate < 1.0, f"drop_path_rate must be in [0, 1), got {self.drop_path_rate}"),
            (self.learning_rate > 0, f"learning_rate must be > 0, got {self.learning_rate}"),
            (0.0 < self.layer_decay <= 1.0, f"layer_decay must be in (0, 1], got {self.layer_decay}"),
            (len(self.betas) == 2, f"betas must have two values, got {self.betas}"),
            (self.per_device_batch_size >= 1, "per_device_batch_size must be >= 1"),
            (self.gradient_accumulation_steps >= 1, "gradient_accumulation_steps must be >= 1"),
            (self.max_steps >= 1, f"max_steps must be >= 1, got {self.max_steps}"),
            (self.save_steps >= 0 and self.eval_steps >= 0 and self.logging_steps >= 1, "save_steps/eval_steps must be >= 0, logging_steps >= 1"),
            (self.save_total_limit >= 1, f"save_total_limit must be >= 1, got {self.save_total_limit}"),
            (0.0 <= self.warmup_ratio <= 1.0, f"warmup_ratio must be in [0, 1], got {self.warmup_ratio}"),
            (0.0 <= self.min_lr_ratio <= 1.0, f"min_lr_ratio must be in [0, 1], got {self.min_lr_ratio}"),
            (self.mixed_precision in MIXED_PRECISION_MODES, f"mixed_precision must be auto, bf16, fp16 or no, got {self.mixed_precision!r}"),
            (self.num_workers >= 0, "num_workers must be >= 0"),
        ]  # fmt: skip
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)
        _at_most_one(self, "init_from", "init_from_clip_model")
        _at_most_one(self, "init_from", "model_config", why=" (the folder's config decides the model)")
        for source in ("init_from", "init_from_clip_model"):
            if getattr(self, source) and self.model_size:
                raise ConfigError(
                    f"model_size is for a model trained from scratch: not with {source} "
                    "(pass --model-size null to clear it)"
                )
        _at_most_one(self, "train_shards", "train_annotations", "train_clips")
        _at_most_one(self, "synthetic", "train_clips", why=" (synthetic data is generated to train on)")
        _at_most_one(self, "eval_annotations", "eval_clips")

    @property
    def num_warmup_steps(self) -> int:
        if self.warmup_steps is not None:
            return min(self.warmup_steps, self.max_steps)
        return round(self.warmup_ratio * self.max_steps)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def save(self, path: str | Path) -> None:
        """Write the config as YAML (`from_file` reads it back)."""
        Path(path).write_text(yaml.safe_dump(self.to_dict(), sort_keys=False))

    @classmethod
    def from_dict(cls, values: Mapping[str, Any], source: str = "config") -> TrainingConfig:
        """Build from a flat dict of fields (errors name `source` and the key)."""
        return parse_training_config(values, source=source)

    @classmethod
    def from_file(cls, path: str | Path) -> TrainingConfig:
        """Read a YAML (``.yaml``/``.yml``) or JSON file, or a built-in config by name."""
        path = resolve_config_path(path)
        return parse_training_config(read_config_file(path), source=str(path))

    def with_overrides(self, overrides: Sequence[str] | Mapping[str, Any]) -> TrainingConfig:
        """A copy with ``["--key", "value", ...]`` (or a dict of fields) applied."""
        if isinstance(overrides, Mapping):
            return parse_training_config({**self.to_dict(), **overrides}, source="overrides")
        return parse_training_config(self.to_dict(), list(overrides))


def parse_training_config(
    values: Mapping[str, Any] | None = None, args: Sequence[str] = (), *, source: str = "config"
) -> TrainingConfig:
    """A `TrainingConfig` from file `values` (flat fields) overridden by command-line `args` (``--key value``),
    both parsed by `transformers.HfArgumentParser`. Raises `ConfigError` naming the source and the key."""
    from transformers import HfArgumentParser

    class Parser(HfArgumentParser):
        def error(self, message: str) -> typing.NoReturn:
            raise ConfigError(f"{where}: {message}")

    values = dict(values or {})
    names = {f.name for f in dataclasses.fields(TrainingConfig)}
    where = "command line" if args else source
    args, cleared = _cleared_fields(args, _optional_fields())
    values.update(dict.fromkeys(cleared))
    for key in values:
        if key not in names:
            close = [n for n in names if key.replace("-", "_") == n]
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"{source}: unknown key {key!r}{hint}")
    parser = Parser(TrainingConfig)
    # File values become the parser's defaults: argparse converts string defaults with the field's type
    # (YAML reads "1e-4" as a string), and --key value on the command line wins over them.
    parser.set_defaults(**{k: v for k, v in values.items()})
    try:
        config, unknown = parser.parse_args_into_dataclasses(
            args=list(args), return_remaining_strings=True, look_for_args_file=False
        )
    except ConfigError as error:
        if str(error).startswith(f"{where}: "):
            raise
        raise ConfigError(f"{where}: {error}") from None
    if unknown:
        raise ConfigError(f"{where}: unknown option(s) {' '.join(unknown)} (not TrainingConfig fields)")
    return config


NULL_VALUES = ("null", "none")
"""``--key null`` (or ``none``, any case) sets a field that may be None to None: clears what a config file set.
For any other field the word is its value (``--report-to none``)."""


def _optional_fields() -> set[str]:
    hints = typing.get_type_hints(TrainingConfig)
    return {name for name, hint in hints.items() if type(None) in _union_members(hint)}


def _cleared_fields(args: Sequence[str], names: set[str]) -> tuple[list[str], list[str]]:
    """``args`` without their ``--key null`` pairs (``--key=null`` too) for the fields ``names``, and the fields
    those pairs clear."""
    kept, cleared = [], []
    args = list(args)
    i = 0
    while i < len(args):
        arg = args[i]
        key, value, width = arg, None, 1
        if arg.startswith("--") and "=" in arg:
            key, value = arg.split("=", 1)
        elif arg.startswith("--") and i + 1 < len(args):
            value, width = args[i + 1], 2
        name = key[2:].replace("-", "_") if key.startswith("--") else None
        if name in names and value is not None and value.lower() in NULL_VALUES:
            cleared.append(name)
            i += width
            continue
        kept.append(arg)
        i += 1
    return kept, cleared


def _at_most_one(config: TrainingConfig, *names: str, why: str = "") -> None:
    """`ConfigError` when more than one of the fields ``names`` is set, saying how to clear the others."""
    given = [name for name in names if getattr(config, name)]
    if len(given) > 1:
        clear = " or ".join(f"--{name.replace('_', '-')} null" for name in given)
        raise ConfigError(
            f"set at most one of {', '.join(names)}{why}; {' and '.join(given)} are set: clear the one you do not "
            f"want with {clear}"
        )


def builtin_config_names() -> list[str]:
    """Names of the configs shipped with the package (`viclip train --config synthetic_cpu`)."""
    return sorted(p.stem for p in BUILTIN_CONFIGS.glob("*.yaml"))


def resolve_config_path(name_or_path: str | Path) -> Path:
    """A config file path, or the file of a built-in config name; `ConfigError` if neither exists."""
    path = Path(name_or_path)
    if not path.is_file() and path.parent == Path(".") and (BUILTIN_CONFIGS / f"{path.stem}.yaml").is_file():
        path = BUILTIN_CONFIGS / f"{path.stem}.yaml"
    if not path.is_file():
        raise ConfigError(
            f"config file not found: {path} (built-in configs: {', '.join(builtin_config_names())})"
        )
    return path


def read_config_file(path: str | Path) -> dict[str, Any]:
    """The flat mapping of a YAML/JSON config file."""
    path = Path(path)
    text = path.read_text()
    try:
        values = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise ConfigError(f"{path}: cannot parse: {' '.join(str(error).split())}") from None
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: the top level must be a mapping, got {type(values).__name__}")
    return values


def _mapping(value: Any, name: str) -> dict | None:
    """A dict field given as a dict, or as JSON/YAML text on the command line."""
    if value is None or isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            value = yaml.safe_load(value)
        except yaml.YAMLError:
            raise ConfigError(f"{name} must be a mapping (JSON), got {value!r}") from None
        if value is None or isinstance(value, dict):
            return value
    raise ConfigError(f"{name} must be a mapping, got {value!r}")


def _check_types(config: TrainingConfig) -> None:
    """Values from a file skip argparse's conversion when they are not strings: check them here."""
    hints = typing.get_type_hints(TrainingConfig)
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        allowed = _union_members(hints[f.name])
        if value is None and type(None) in allowed:
            continue
        for kind in allowed:
            kind = typing.get_origin(kind) or kind
            if kind is float and isinstance(value, int) and not isinstance(value, bool):
                setattr(config, f.name, float(value))
                break
            if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
                break
        else:
            raise ConfigError(f"{f.name} must be {_type_name(hints[f.name])}, got {value!r}")


def _union_members(hint: Any) -> tuple:
    return typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)


def _type_name(hint: Any) -> str:
    names = {bool: "true or false", int: "an integer", float: "a number", str: "a string", list: "a list"}
    kinds = [typing.get_origin(k) or k for k in _union_members(hint) if k is not type(None)]
    return " or ".join(names.get(k, getattr(k, "__name__", str(k))) for k in kinds)
