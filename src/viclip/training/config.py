"""`TrainingConfig`: every setting of a ViCLIP training run, with the ViCLIP recipe as defaults.

A config file (YAML or JSON) holds the fields, either flat or grouped under the section names of
`SECTIONS` (sections are only for reading; all fields share one namespace). Command-line overrides
``--key value`` (or ``--key=value``) are parsed as YAML scalars (``--lr 1e-4``, ``--freeze_text false``,
``--betas "[0.9, 0.98]"``) and checked against the field types.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SECTIONS: tuple[str, ...] = ("model", "data", "optim", "optimization", "run", "checkpoint", "logging", "eval")


class ConfigError(ValueError):
    """A training config that cannot be used (unknown key, wrong type, missing file)."""


@dataclass
class TrainingConfig:
    """Settings of `viclip train`. Defaults follow ViCLIP pretraining (ORIGINAL_VICLIP.md, "Training recipe")."""

    # --- model ---
    model_preset: str = "viclip-b16"
    """Size when training from scratch or from CLIP: "viclip-b16" or "viclip-l14"."""
    model_config: dict = field(default_factory=dict)
    """Overrides of the preset: top-level fields and ``vision_config`` / ``text_config`` dicts."""
    init_from: str | None = None
    """A converted ViCLIP folder (or Hub id) to fine-tune."""
    init_from_clip: str | None = None
    """A transformers `CLIPModel` folder (or Hub id) to initialise from, as ViCLIP was made."""
    mask_ratio: float = 0.9
    drop_path_rate: float = 0.1
    freeze_text: bool = True
    """Freeze the text tower and its projection (ViCLIP pretraining keeps CLIP's text tower)."""
    gradient_checkpointing: bool = True
    attn_implementation: str = "sdpa"
    mixed_precision: str = "auto"
    """"auto" (bf16 on CUDA, none elsewhere), "bf16", "fp16" or "no"."""

    # --- data ---
    train_annotations: str | None = None
    """InternVid-format JSON Lines (or a dataset `load_internvid` accepts)."""
    video_root: str | None = None
    eval_annotations: str | None = None
    """Held-out split for periodic retrieval evaluation."""
    eval_video_root: str | None = None
    """Defaults to `video_root`."""
    num_frames: int = 8
    image_size: int | None = None
    """Frame size; defaults to the model's."""
    num_workers: int = 0
    """DataLoader workers. With 0, resuming reproduces the uninterrupted run exactly."""
    clean_captions: bool = False
    augment: bool = True
    """RandomResizedCrop + horizontal flip of training clips; turn off when captions name left/right."""
    cache_examples: bool = False
    """Decode the training split once and keep it in memory (small datasets; later epochs reshuffle it)."""
    shuffle_buffer: int = 0
    """Streaming shuffle buffer (0: annotation order)."""
    synthetic: dict | None = None
    """Generate a synthetic moving-shapes dataset first: arguments of
    `viclip.data.synthetic.generate_synthetic_internvid` plus ``out_dir``; train/eval paths are filled in."""

    # --- optimisation ---
    learning_rate: float = 4e-4
    betas: list[float] = field(default_factory=lambda: [0.9, 0.98])
    adam_eps: float = 1e-6
    weight_decay: float = 0.2
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
    log_steps: int = 10
    report_to: str = "auto"
    """"auto" (TensorBoard when installed), "none", or an Accelerate tracker name ("tensorboard", "wandb", ...)."""
    project_name: str = "viclip"
    eval_steps: int = 0
    """Retrieval evaluation every N optimiser steps (0: only at the end, when `eval_annotations` is set)."""
    eval_batch_size: int = 32
    eval_max_clips: int | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raises `ConfigError` naming the first bad field."""
        checks = [
            (0.0 <= self.mask_ratio < 1.0, f"mask_ratio must be in [0, 1), got {self.mask_ratio}"),
            (0.0 <= self.drop_path_rate < 1.0, f"drop_path_rate must be in [0, 1), got {self.drop_path_rate}"),
            (self.learning_rate > 0, f"learning_rate must be > 0, got {self.learning_rate}"),
            (len(self.betas) == 2, f"betas must have two values, got {self.betas}"),
            (self.per_device_batch_size >= 1, "per_device_batch_size must be >= 1"),
            (self.gradient_accumulation_steps >= 1, "gradient_accumulation_steps must be >= 1"),
            (self.max_steps >= 1, f"max_steps must be >= 1, got {self.max_steps}"),
            (self.save_steps >= 0 and self.eval_steps >= 0 and self.log_steps >= 1, "save_steps/eval_steps must be >= 0, log_steps >= 1"),
            (self.save_total_limit >= 1, f"save_total_limit must be >= 1, got {self.save_total_limit}"),
            (0.0 <= self.warmup_ratio <= 1.0, f"warmup_ratio must be in [0, 1], got {self.warmup_ratio}"),
            (0.0 <= self.min_lr_ratio <= 1.0, f"min_lr_ratio must be in [0, 1], got {self.min_lr_ratio}"),
            (self.mixed_precision in {"auto", "bf16", "fp16", "no"}, f"mixed_precision must be auto, bf16, fp16 or no, got {self.mixed_precision!r}"),
            (not (self.init_from and self.init_from_clip), "set at most one of init_from and init_from_clip"),
            (self.num_workers >= 0, "num_workers must be >= 0"),
        ]  # fmt: skip
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)

    @property
    def num_warmup_steps(self) -> int:
        if self.warmup_steps is not None:
            return min(self.warmup_steps, self.max_steps)
        return round(self.warmup_ratio * self.max_steps)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(yaml.safe_dump(self.to_dict(), sort_keys=False))

    @classmethod
    def from_dict(cls, values: dict[str, Any], source: str = "config") -> TrainingConfig:
        """Build from a flat or sectioned dict, checking names and types (errors name `source` and the key)."""
        flat: dict[str, Any] = {}
        for key, value in values.items():
            if key in SECTIONS and isinstance(value, dict):
                items = value.items()
            else:
                items = [(key, value)]
            for name, item in items:
                if name in flat:
                    raise ConfigError(f"{source}: key {name!r} is given twice")
                flat[name] = item
        fields = {f.name: f for f in dataclasses.fields(cls)}
        hints = typing.get_type_hints(cls)
        kwargs = {}
        for name, value in flat.items():
            if name not in fields:
                close = [f for f in fields if name.replace("-", "_") == f]
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ConfigError(f"{source}: unknown key {name!r}{hint}")
            kwargs[name] = _coerce(value, hints[name], f"{source}: {name}")
        try:
            return cls(**kwargs)
        except ConfigError as error:
            raise ConfigError(f"{source}: {error}") from None

    @classmethod
    def from_file(cls, path: str | Path) -> TrainingConfig:
        """Read a YAML (``.yaml``/``.yml``) or JSON file."""
        return cls.from_dict(read_config_file(path), source=str(path))

    def with_overrides(self, overrides: list[str] | dict[str, Any]) -> TrainingConfig:
        """A copy with ``["--key", "value", "--key2=value2"]`` (or a dict) applied."""
        if not isinstance(overrides, dict):
            overrides = parse_overrides(overrides)
        values = self.to_dict()
        values.update(overrides)
        return type(self).from_dict(values, source="command line")


BUILTIN_CONFIGS = Path(__file__).parent / "configs"


def builtin_config_names() -> list[str]:
    """Names of the configs shipped with the package (`viclip train --config synthetic_cpu`)."""
    return sorted(p.stem for p in BUILTIN_CONFIGS.glob("*.yaml"))


def read_config_file(path: str | Path) -> dict[str, Any]:
    """A YAML/JSON config file, or the name of a built-in config (see `builtin_config_names`)."""
    path = Path(path)
    if not path.is_file() and path.parent == Path(".") and (BUILTIN_CONFIGS / f"{path.stem}.yaml").is_file():
        path = BUILTIN_CONFIGS / f"{path.stem}.yaml"
    if not path.is_file():
        raise ConfigError(
            f"config file not found: {path} (built-in configs: {', '.join(builtin_config_names())})"
        )
    text = path.read_text()
    try:
        values = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise ConfigError(f"{path}: cannot parse: {error}") from None
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: the top level must be a mapping, got {type(values).__name__}")
    return values


def parse_overrides(argv: list[str]) -> dict[str, Any]:
    """``["--lr", "1e-4", "--freeze_text=false"]`` -> ``{"lr": 1e-4, "freeze_text": False}`` (YAML scalars;
    dashes in keys become underscores)."""
    overrides: dict[str, Any] = {}
    i = 0
    while i < len(argv):
        token = argv[i]
        if not token.startswith("--") or token == "--":
            raise ConfigError(f"expected --key value, got {token!r}")
        key = token[2:]
        if "=" in key:
            key, raw = key.split("=", 1)
            i += 1
        else:
            if i + 1 >= len(argv) or argv[i + 1].startswith("--"):
                raise ConfigError(f"--{key} needs a value")
            raw = argv[i + 1]
            i += 2
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            value = raw
        overrides[key.replace("-", "_")] = value
    return overrides


def _coerce(value: Any, hint: Any, where: str) -> Any:
    """Check `value` against a simple type hint, converting int->float and str paths where harmless."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        if value is None:
            if type(None) in args:
                return None
            raise ConfigError(f"{where} must not be null")
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, where)
            except ConfigError as error:
                errors.append(str(error))
        raise ConfigError(errors[0])
    if hint is Any:
        return value
    if origin is list or hint is list:
        if isinstance(value, tuple):
            value = list(value)
        if not isinstance(value, list):
            raise ConfigError(f"{where} must be a list, got {value!r}")
        (item,) = typing.get_args(hint) or (Any,)
        return [_coerce(v, item, where) for v in value]
    if origin is dict or hint is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where} must be a mapping, got {value!r}")
        return value
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{where} must be true or false, got {value!r}")
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"{where} must be an integer, got {value!r}")
    if hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):  # YAML 1.1 reads "1e-4" (no dot) as a string
            try:
                return float(value)
            except ValueError:
                pass
        raise ConfigError(f"{where} must be a number, got {value!r}")
    if hint is str:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
        raise ConfigError(f"{where} must be a string, got {value!r}")
    return value
