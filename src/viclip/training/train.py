"""ViCLIP's contrastive training through Accelerate, from one CPU to many GPU nodes (`viclip train`).

    viclip train --config synthetic_cpu [--key value ...] [--resume latest]
    accelerate launch --config_file configs/accelerate/multi_gpu.yaml -m viclip.train --config ...
    torchrun --nproc_per_node 2 -m viclip.train --config ...      # several CPU processes

Library use: :func:`train` takes a `TrainingConfig` and, optionally, a model and datasets built in Python.
A run is `setup` -> `TrainingRun.training_step` per micro-batch -> `TrainingRun.on_step_end` per optimiser step
(logging, evaluation, checkpoints) -> `TrainingRun.finalize` (final evaluation, the Hub folder ``final/``).
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from ..modeling import ViCLIPConfig, ViCLIPModel
from .checkpointing import CheckpointManager
from .collator import ViCLIPDataCollator
from .config import ConfigError, TrainingConfig
from .loss import ContrastiveTrainingModule, gathered_contrastive_loss
from .model_sizes import config_for_size
from .optim import build_optimizer, build_scheduler
from .precision import resolve_mixed_precision
from .stream import STREAM_KEY, InMemoryStream, ResumableStream, StreamCollator

logger = logging.getLogger(__name__)


@dataclass
class TrainResult:
    """What a run produced."""

    step: int
    final_dir: Path | None
    history: list[dict[str, Any]] = field(default_factory=list)
    """Logged metrics (the same rows as ``metrics.jsonl``)."""
    eval_metrics: dict[str, float] | None = None


# ----------------------------------------------------------------------------------------------- model


def build_model(config: TrainingConfig) -> ViCLIPModel:
    """The model to train: a ViCLIP folder (fine-tuning), a CLIP model (as ViCLIP was made), or a fresh model of
    `model_size` with `model_config`. The run's regularisation (`mask_ratio`, `drop_path_rate`) is set in the
    config the model is built with; the attention implementation is set once, the same way for all three."""
    regularisation = {"mask_ratio": config.mask_ratio, "drop_path_rate": config.drop_path_rate}
    if config.init_from:
        model_config = ViCLIPConfig.from_pretrained(config.init_from)
        model_config.vision_config.update(regularisation)
        model = ViCLIPModel.from_pretrained(config.init_from, config=model_config)
    elif config.init_from_clip_model:
        from .init_from_clip_model import viclip_from_clip_model

        overrides = dict(config.model_config)
        vision = overrides.pop("vision_config", {})
        if overrides:
            raise ConfigError(
                f"model_config: with init_from_clip_model only vision_config applies (the sizes are CLIP's), "
                f"got {sorted(overrides)}"
            )
        model = viclip_from_clip_model(config.init_from_clip_model, **{**vision, **regularisation})
    else:
        overrides = dict(config.model_config)
        vision = {**overrides.pop("vision_config", {}), **regularisation}
        try:
            model_config = config_for_size(
                config.model_size or "viclip-b16", vision_config=vision, **overrides
            )
        except ValueError as error:
            raise ConfigError(f"model_size: {error}") from None
        model = ViCLIPModel(model_config)
    model.set_attn_implementation(config.attn_implementation)
    return model


def check_regularisation(model: ViCLIPModel, config: TrainingConfig) -> None:
    """A model built elsewhere trains with its own config's regularisation: refuse one that differs from the
    run's (it would be silently ignored)."""
    vision = model.config.vision_config
    built, wanted = (vision.mask_ratio, vision.drop_path_rate), (config.mask_ratio, config.drop_path_rate)
    if built != wanted:
        raise ConfigError(
            f"the model was built with mask_ratio {built[0]} and drop_path_rate {built[1]} but the config sets "
            f"{wanted[0]} and {wanted[1]}: build it with viclip.training.build_model(config), or set the "
            "config's values to the model's"
        )


def prepare_model_for_training(model: ViCLIPModel, config: TrainingConfig) -> ViCLIPModel:
    """Apply the recipe switches: frozen text tower, gradient checkpointing, training mode (masking and
    drop-path were set when the model was built: `check_regularisation`)."""
    check_regularisation(model, config)
    if config.freeze_text:
        for param in [*model.text_model.parameters(), *model.text_projection.parameters()]:
            param.requires_grad_(False)
    if config.gradient_checkpointing:
        model.activation_checkpointing_enable()
    model.train()
    return model


def save_final_model(
    model: ViCLIPModel,
    out_dir: Path,
    processor: Any,
    *,
    state_dict: dict[str, torch.Tensor] | None = None,
    model_card: str | None = None,
) -> None:
    """A complete Hub folder (weights, processor, remote code, model card; `viclip.hub.save_hub_folder`) that
    `AutoModel.from_pretrained` loads and `viclip push` accepts. Its config keeps the run's masking and drop-path
    (as transformers models keep their dropout settings): they act in training mode only, and every ViCLIP
    trainer sets its own when it builds a model. Call it on the main process only."""
    from ..hub import save_hub_folder

    if state_dict is not None:  # the gathered weights of a sharded run (FSDP, DeepSpeed ZeRO-3)
        model = _with_state_dict(model, state_dict)
    save_hub_folder(model, processor, out_dir, model_card=model_card, force=True)


def _with_state_dict(model: ViCLIPModel, state_dict: dict[str, torch.Tensor]) -> ViCLIPModel:
    """`model` itself when it already holds `state_dict`, else a CPU copy built from its config."""
    own = model.state_dict()
    if all(k in own and own[k].shape == v.shape for k, v in state_dict.items()):
        model.load_state_dict(state_dict, strict=False)
        return model
    copy = type(model)(model.config)
    copy.load_state_dict(state_dict)
    return copy


# ------------------------------------------------------------------------------------------------ data


def _maybe_generate_synthetic(config: TrainingConfig, accelerator: Any) -> TrainingConfig:
    if not config.synthetic:
        return config
    from ..data.synthetic import generate_synthetic_internvid

    options = dict(config.synthetic)
    out_dir = Path(options.pop("out_dir", Path(config.output_dir) / "synthetic-data"))
    options.setdefault("held_out_videos", 0)
    if accelerator.is_main_process and not (out_dir / "annotations.jsonl").is_file():
        generate_synthetic_internvid(out_dir, progress=config.progress, **options)
    accelerator.wait_for_everyone()
    config.train_annotations = config.train_annotations or str(out_dir / "annotations.jsonl")
    config.video_root = config.video_root or str(out_dir / "videos")
    if options["held_out_videos"] and config.eval_annotations is None:
        config.eval_annotations = str(out_dir / "held_out.jsonl")
    return config


def build_train_dataset(config: TrainingConfig, processor: Any, accelerator: Any):
    """`load_internvid` over the training annotations (or `load_prepared` over `train_shards`) with the model's
    `processor`, split across processes; returns (dataset, stats)."""
    from datasets.distributed import split_dataset_by_node

    from ..data import SkipStats, ViCLIPExampleTransform, load_internvid
    from .transforms import RandomFramesTransform

    if config.train_shards:
        return _prepared_train_dataset(config, processor, accelerator)
    if not config.train_annotations or not config.video_root:
        raise ConfigError("train_annotations and video_root are required (or a `synthetic` section)")
    world, workers = accelerator.num_processes, max(config.num_workers, 1)
    num_shards = world * workers * max(1, math.ceil(16 / (world * workers)))
    stats = SkipStats()
    transform_cls = ViCLIPExampleTransform if config.augment else RandomFramesTransform
    transform = transform_cls(
        processor,
        training=True,
        clean_captions=config.clean_captions,
        seed=config.seed,  # per-example augmentation seeds come from (seed, row index): resumable
    )
    dataset = load_internvid(
        data_files=config.train_annotations,
        video_root=config.video_root,
        transform=transform,
        shuffle=config.shuffle_buffer > 0,
        shuffle_buffer_size=max(config.shuffle_buffer, 1),
        seed=config.seed,
        num_shards=num_shards,
        stats=stats,
    )
    if world > 1:
        dataset = split_dataset_by_node(dataset, rank=accelerator.process_index, world_size=world)
    if config.cache_examples:
        examples = list(tqdm(dataset, desc="decoding the training split", disable=not config.progress))
        stats.log_summary(prefix="training split cached")
        dataset = InMemoryStream(examples, seed=config.seed, shuffle=True)
    return dataset, stats


def _prepared_train_dataset(config: TrainingConfig, processor: Any, accelerator: Any):
    from ..data import SkipStats, load_prepared

    if not config.augment:
        raise ConfigError(
            "augment=false is not available with train_shards (prepared clips are read augmented)"
        )
    stats = SkipStats()
    dataset = load_prepared(
        config.train_shards,
        training=True,
        processor=processor,
        clean_captions=config.clean_captions,
        shuffle=config.shuffle_buffer > 0,
        shuffle_buffer_size=max(config.shuffle_buffer, 1),
        seed=config.seed,
        stats=stats,
        rank=accelerator.process_index,
        world_size=accelerator.num_processes,
        augmentation_seed=config.seed,  # per-example seeds from (seed, row index): resumable
    )
    if config.cache_examples:
        examples = list(tqdm(dataset, desc="decoding the training split", disable=not config.progress))
        stats.log_summary(prefix="training split cached")
        dataset = InMemoryStream(examples, seed=config.seed, shuffle=True)
    return dataset, stats


def build_eval_examples(config: TrainingConfig, processor: Any) -> list[dict[str, Any]]:
    """The held-out split as a list (every process holds all of it; it is meant to be small)."""
    from ..data import load_internvid

    dataset = load_internvid(
        data_files=config.eval_annotations,
        video_root=config.eval_video_root or config.video_root,
        training=False,
        shuffle=False,
        processor=processor,
        clean_captions=config.clean_captions,
        num_shards=1,
    )
    examples = []
    for example in dataset:
        examples.append(example)
        if config.eval_max_clips and len(examples) >= config.eval_max_clips:
            break
    return examples


def processor_for_run(config: TrainingConfig, model: ViCLIPModel, processor: Any = None) -> Any:
    """The one processor of a run (its frames, size and normalisation feed training, evaluation and the saved
    folder): `processor` if given, else the `init_from` folder's, else the default one of the model's config;
    refused when it does not fit the model."""
    from ..data.model_processor import check_processor_fits, default_processor, load_model_processor

    if processor is None:
        if config.init_from:
            return load_model_processor(config.init_from, model.config)
        return default_processor(model.config)
    try:
        check_processor_fits(processor, model.config, "the processor passed to train", "the model")
    except ValueError as error:
        raise ConfigError(str(error)) from None
    return processor


# ------------------------------------------------------------------------------------------------ loop


def _resolve_trackers(report_to: str) -> list[str]:
    if report_to in ("none", "", None):
        return []
    if report_to == "auto":
        from accelerate.utils import is_tensorboard_available

        return ["tensorboard"] if is_tensorboard_available() else []
    return [name.strip() for name in report_to.split(",") if name.strip()]


def _make_accelerator(config: TrainingConfig):
    from accelerate import Accelerator
    from accelerate.utils import ProjectConfiguration

    has_device = torch.cuda.is_available() or torch.backends.mps.is_available()
    has_device = has_device or (hasattr(torch, "xpu") and torch.xpu.is_available())
    accelerator = Accelerator(
        cpu=not has_device,  # without it, CPU-only processes started by torchrun would not form a group
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        mixed_precision=resolve_mixed_precision(config.mixed_precision),
        log_with=_resolve_trackers(config.report_to) or None,
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
            "`torchrun --nproc_per_node N -m viclip.train ...` instead"
        )
    if world_size > num_processes:
        raise RuntimeError(
            f"WORLD_SIZE={world_size} but only {num_processes} process(es) joined the training group; "
            "launch with `accelerate launch` (GPUs) or `torchrun --nproc_per_node N -m viclip.train` (CPU)"
        )


class TrainingRun:
    """The state of one run and its phases; built by `setup`, driven by `train`."""

    def __init__(
        self,
        config: TrainingConfig,
        accelerator: Any,
        module: Any,
        optimizer: Any,
        scheduler: Any,
        train_dataset: Any,
        eval_examples: list[dict[str, Any]] | None,
        collate_fn: Any,
        processor: Any,
        checkpoints: CheckpointManager,
        skip_stats: Any = None,
    ):
        self.config, self.accelerator = config, accelerator
        self.module, self.optimizer, self.scheduler = module, optimizer, scheduler
        self.train_dataset, self.eval_examples = train_dataset, eval_examples
        self.collate_fn, self.processor = collate_fn, processor
        self.checkpoints, self.skip_stats = checkpoints, skip_stats
        self.output_dir = Path(config.output_dir)
        self.device = accelerator.device
        self.global_batch = config.per_device_batch_size * accelerator.num_processes
        self.step, self.epoch = 0, 0
        self.positions: dict[int, Any] = {}
        self.history: list[dict[str, Any]] = []
        self.eval_metrics: dict[str, float] | None = None
        self.logit_scale = torch.tensor(0.0)
        self._window_loss, self._window_micro, self._window_start = 0.0, 0, time.perf_counter()

    # -- the data --------------------------------------------------------------------------------------
    def batches(self) -> Iterator[dict[str, Any]]:
        """This process's micro-batches from the resume position on, epoch after epoch (never ends)."""
        config = self.config
        if hasattr(self.train_dataset, "set_epoch"):
            self.train_dataset.set_epoch(self.epoch)
        while True:
            loader = DataLoader(
                ResumableStream(self.train_dataset, self.positions),
                batch_size=config.per_device_batch_size,
                collate_fn=StreamCollator(self.collate_fn),
                num_workers=0 if isinstance(self.train_dataset, InMemoryStream) else config.num_workers,
                drop_last=True,  # every process must contribute the same number of clips to the global batch
                pin_memory=self.device.type == "cuda",
                # An own generator: creating the iterator must not draw from the global RNG (exact resume).
                generator=torch.Generator().manual_seed(
                    config.seed + 1000 * self.epoch + self.accelerator.process_index
                ),
                persistent_workers=False,
            )
            batches, fresh_epoch = 0, not self.positions
            for batch in loader:
                batches += 1
                self.positions.update(batch.pop(STREAM_KEY))
                yield batch
            if batches == 0 and fresh_epoch:
                raise RuntimeError(
                    f"the training stream gave no full batch of {config.per_device_batch_size} clips "
                    f"(epoch {self.epoch}); is the data empty or smaller than one batch per process?"
                )
            self.epoch += 1
            self.positions = {}
            if hasattr(self.train_dataset, "set_epoch"):
                self.train_dataset.set_epoch(self.epoch)

    # -- one micro-batch -------------------------------------------------------------------------------
    def training_step(self, batch: dict[str, Any]) -> bool:
        """Forward, backward and (at the end of an accumulation window) the optimiser step on one micro-batch.
        Returns whether an optimiser step happened."""
        accelerator, device = self.accelerator, self.device
        with accelerator.accumulate(self.module):
            video, text, logit_scale = self.module(
                input_ids=batch["input_ids"].to(device, non_blocking=True),
                pixel_values_videos=batch["pixel_values_videos"].to(device, non_blocking=True),
                attention_mask=batch["attention_mask"].to(device, non_blocking=True),
            )
            loss, _ = gathered_contrastive_loss(video, text, logit_scale)
            accelerator.backward(loss)
            if accelerator.sync_gradients and self.config.max_grad_norm:
                accelerator.clip_grad_norm_(self.module.parameters(), self.config.max_grad_norm)
            self.optimizer.step()
            if accelerator.sync_gradients:
                self.scheduler.step()
            self.optimizer.zero_grad(set_to_none=True)
        self._window_loss += loss.detach().float().item()
        self._window_micro += 1
        self.logit_scale = logit_scale.detach()
        if accelerator.sync_gradients:
            self.step += 1
        return accelerator.sync_gradients

    # -- after each optimiser step ---------------------------------------------------------------------
    def on_step_end(self) -> None:
        """Log every `logging_steps`, evaluate every `eval_steps`, checkpoint every `save_steps`."""
        config, step = self.config, self.step
        if step % config.logging_steps == 0 or step == config.max_steps:
            self.log(self._training_row())
        if (
            self.eval_examples
            and config.eval_steps
            and step % config.eval_steps == 0
            and step < config.max_steps
        ):
            self.evaluate()
        if config.save_steps and step % config.save_steps == 0:
            trainer_state = {
                "epoch": self.epoch,
                "stream_positions": {str(k): v for k, v in self.positions.items()},
            }
            self.checkpoints.save(self.accelerator, step, trainer_state)

    def _training_row(self) -> dict[str, Any]:
        elapsed = time.perf_counter() - self._window_start
        row = {
            "step": self.step,
            "loss": self._window_loss / self._window_micro,
            "lr": self.scheduler.get_last_lr()[0],
            "logit_scale": float(self.logit_scale),
            "clips_per_s": self._window_micro * self.global_batch / max(elapsed, 1e-9),
            "epoch": self.epoch,
        }
        if self.skip_stats is not None:
            row.update(_global_skips(self.skip_stats, self.accelerator))
        self._window_loss, self._window_micro, self._window_start = 0.0, 0, time.perf_counter()
        return row

    def log(self, row: dict[str, Any]) -> None:
        """Record a row of metrics: history, trackers, ``metrics.jsonl``."""
        self.history.append(row)
        if self.accelerator.trackers:
            self.accelerator.log({k: v for k, v in row.items() if k != "step"}, step=row["step"])
        if self.accelerator.is_main_process:
            with open(self.output_dir / "metrics.jsonl", "a") as f:
                f.write(json.dumps(row) + "\n")

    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        """Text-to-video and video-to-text R@K on the held-out examples (clip ``i`` paired with caption ``i``),
        with the metric of `viclip.evaluation`. Every process runs it (the module may be sharded)."""
        from ..evaluation.retrieval import retrieval_metrics

        self.module.eval()
        videos, texts = [], []
        size = self.config.eval_batch_size
        for start in range(0, len(self.eval_examples), size):
            batch = self.collate_fn(list(self.eval_examples[start : start + size]))
            video, text, _ = self.module(
                input_ids=batch["input_ids"].to(self.device),
                pixel_values_videos=batch["pixel_values_videos"].to(self.device),
                attention_mask=batch["attention_mask"].to(self.device),
            )
            videos.append(video.float().cpu())
            texts.append(text.float().cpu())
        self.module.train()
        self.eval_metrics = retrieval_metrics(torch.cat(texts) @ torch.cat(videos).t())
        self.log({"step": self.step, **{f"eval/{k}": v for k, v in self.eval_metrics.items()}})
        return self.eval_metrics

    # -- the end -----------------------------------------------------------------------------------------
    def finalize(self) -> TrainResult:
        """Final evaluation, the Hub folder ``final/``, trackers closed."""
        accelerator = self.accelerator
        if self.eval_examples:
            self.evaluate()
            if accelerator.is_main_process:
                logger.info(
                    "retrieval on %d held-out clips: %s", len(self.eval_examples), _format(self.eval_metrics)
                )
        accelerator.wait_for_everyone()
        final_dir = self.output_dir / "final"
        state_dict = accelerator.get_state_dict(self.module)  # every process takes part (sharded weights)
        if accelerator.is_main_process:
            model = accelerator.unwrap_model(self.module).model
            if state_dict is not None:
                state_dict = {k.removeprefix("model."): v for k, v in state_dict.items()}
            save_final_model(
                model, final_dir, self.processor, state_dict=state_dict, model_card=self._model_card(model)
            )
            logger.info("saved the final model and processor to %s", final_dir)
        accelerator.wait_for_everyone()
        accelerator.end_training()
        return TrainResult(
            step=self.step, final_dir=final_dir, history=self.history, eval_metrics=self.eval_metrics
        )

    def _model_card(self, model: ViCLIPModel) -> str:
        from ..hub.model_card import build_trained_model_card

        config = self.config
        data = config.train_annotations or "the data passed to `viclip.training.train`"
        training = (
            f"Trained with `viclip train` for {self.step} optimiser steps (global batch {self.global_batch}, "
            f"learning rate {config.learning_rate:g}) on `{data}`."
        )
        if self.eval_metrics:
            training += (
                f" Held-out retrieval ({len(self.eval_examples)} clips): {_format(self.eval_metrics)}."
            )
        return build_trained_model_card(model, repo_id=self.output_dir.name, training=training)


def setup(
    config: TrainingConfig,
    *,
    model: ViCLIPModel | None = None,
    train_dataset: Any = None,
    eval_examples: list[dict[str, Any]] | None = None,
    collate_fn: Any = None,
    processor: Any = None,
    accelerator: Any = None,
) -> TrainingRun:
    """Build everything a run needs (arguments as in `train`) and restore a checkpoint when resuming."""
    from accelerate.utils import set_seed

    accelerator = accelerator or _make_accelerator(config)
    if accelerator.is_main_process:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    output_dir = Path(config.output_dir)
    config = _maybe_generate_synthetic(config, accelerator)
    checkpoints = CheckpointManager(output_dir, config.save_total_limit)
    resume_path = checkpoints.resolve(config.resume_from) if config.resume_from else None

    set_seed(config.seed)  # identical initial weights on every process
    if model is not None and (config.init_from or config.init_from_clip_model or config.model_config):
        raise ConfigError(
            "give either a model or the config's init_from / init_from_clip_model / model_config, not both"
        )
    model = model if model is not None else build_model(config)
    model = prepare_model_for_training(model, config)
    processor = processor_for_run(config, model, processor)
    pad_token_id = model.config.text_config.pad_token_id
    collate_fn = collate_fn or ViCLIPDataCollator(
        pad_token_id=49407 if pad_token_id is None else pad_token_id, return_loss=False
    )
    skip_stats = None
    if train_dataset is None:
        train_dataset, skip_stats = build_train_dataset(config, processor, accelerator)
    if eval_examples is None and config.eval_annotations:
        eval_examples = build_eval_examples(config, processor)

    module = ContrastiveTrainingModule(model)
    optimizer = build_optimizer(
        module,
        config.learning_rate,
        tuple(config.betas),
        config.adam_eps,
        config.weight_decay,
        config.layer_decay,
    )
    scheduler = build_scheduler(optimizer, config.num_warmup_steps, config.max_steps, config.min_lr_ratio)
    deepspeed_plugin = getattr(accelerator.state, "deepspeed_plugin", None)
    if deepspeed_plugin is not None:  # no DataLoader goes through prepare(): tell DeepSpeed the batch size
        deepspeed_plugin.deepspeed_config["train_micro_batch_size_per_gpu"] = config.per_device_batch_size
    module, optimizer, scheduler = accelerator.prepare(module, optimizer, scheduler)
    set_seed(config.seed + accelerator.process_index)  # different masks and drop-path on every process

    run = TrainingRun(
        config, accelerator, module, optimizer, scheduler, train_dataset, eval_examples, collate_fn, processor,
        checkpoints, skip_stats,
    )  # fmt: skip
    if resume_path is not None:
        state = checkpoints.load(accelerator, resume_path)
        run.step, run.epoch = state["step"], state["epoch"]
        run.positions = {int(k): v for k, v in state["stream_positions"].items()}
        logger.info("resumed from %s at step %d", resume_path, run.step)
    if run.step >= config.max_steps:
        logger.info("nothing to do: step %d >= max_steps %d", run.step, config.max_steps)
    if accelerator.trackers:
        accelerator.init_trackers(config.project_name, config=_tracker_config(config))
    if accelerator.is_main_process:
        output_dir.mkdir(parents=True, exist_ok=True)
        config.save(output_dir / "training_config.yaml")
    return run


def train(
    config: TrainingConfig,
    *,
    model: ViCLIPModel | None = None,
    train_dataset: Any = None,
    eval_examples: list[dict[str, Any]] | None = None,
    collate_fn: Any = None,
    processor: Any = None,
    accelerator: Any = None,
) -> TrainResult:
    """Train ViCLIP with `config`.

    Args:
        config: the run settings.
        model: a `ViCLIPModel` to train instead of building one from `config`.
        train_dataset: this process's training examples (an iterable of dicts with ``pixel_values_videos``,
            ``input_ids``, ``attention_mask``), instead of `load_internvid` over `config.train_annotations`.
            With ``state_dict()``/``load_state_dict()`` it resumes in O(1); otherwise by skipping.
        eval_examples: held-out examples for retrieval evaluation (instead of `config.eval_annotations`).
        collate_fn: batches examples (default: `ViCLIPDataCollator` without ``return_loss``).
        processor: the run's processor (default: the `init_from` folder's, else the default one of the model's
            config): the training and evaluation examples are made with it, and it is saved with the final model.
        accelerator: an `Accelerator` to use (default: one built from `config`).
    """
    run = setup(
        config, model=model, train_dataset=train_dataset, eval_examples=eval_examples, collate_fn=collate_fn,
        processor=processor, accelerator=accelerator,
    )  # fmt: skip
    progress = tqdm(
        total=config.max_steps, initial=run.step, desc="training", unit="step",
        disable=not (config.progress and run.accelerator.is_local_main_process),
    )  # fmt: skip
    if run.step < config.max_steps:
        for batch in run.batches():
            if not run.training_step(batch):
                continue
            progress.update(1)
            run.on_step_end()
            if run.history and run.history[-1]["step"] == run.step and "loss" in run.history[-1]:
                progress.set_postfix(loss=f"{run.history[-1]['loss']:.4f}")
            if run.step >= config.max_steps:
                break
    progress.close()
    return run.finalize()


def _global_skips(stats: Any, accelerator: Any) -> dict[str, int]:
    """Clips delivered and rows skipped by reason, summed over processes (``data/examples``, ``skipped/*``)."""
    counts = stats.counts()
    keys = sorted(k for k in counts if k != "shards_done")
    local = torch.tensor([counts[k] for k in keys], dtype=torch.long, device=accelerator.device)
    total = accelerator.reduce(local, reduction="sum") if accelerator.num_processes > 1 else local
    return {
        ("data/examples" if k == "examples" else f"skipped/{k}"): int(v) for k, v in zip(keys, total.tolist())
    }


def _tracker_config(config: TrainingConfig) -> dict[str, Any]:
    """Trackers (TensorBoard hparams) take scalars and strings only."""
    out = {}
    for key, value in config.to_dict().items():
        if isinstance(value, (int, float, str, bool)):
            out[key] = value
        elif value is not None:
            out[key] = json.dumps(value)
    return out


def _format(metrics: dict[str, float]) -> str:
    """R@K figures as text; a K above the number of clips has no value (not applicable)."""
    return ", ".join(f"{k} {v:.1f}" if v is not None else f"{k} n/a" for k, v in metrics.items() if "R@" in k)
