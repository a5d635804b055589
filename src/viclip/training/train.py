"""`viclip train`: ViCLIP's contrastive training through Accelerate, from one CPU to many GPU nodes.

    viclip train --config synthetic_cpu [--key value ...] [--resume latest]
    accelerate launch [--config_file configs/accelerate/ddp.yaml] -m viclip.training.train --config ...

Library use: :func:`train` takes a `TrainingConfig` and, optionally, a model and datasets built in Python.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from ..modeling import ViCLIPConfig, ViCLIPModel
from .checkpointing import CheckpointError, CheckpointManager
from .collator import ViCLIPDataCollator
from .config import ConfigError, TrainingConfig
from .evaluation import evaluate_retrieval
from .loss import ContrastiveTrainingModule, contrastive_loss
from .optim import build_optimizer, build_scheduler
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
    """The model to train: a ViCLIP folder (fine-tuning), a CLIP model (as ViCLIP was made), or a fresh preset."""
    vision_overrides = {"num_frames": config.num_frames}
    if config.image_size is not None:
        vision_overrides["image_size"] = config.image_size
    kwargs = {"attn_implementation": config.attn_implementation}
    if config.init_from:
        return ViCLIPModel.from_pretrained(config.init_from, **kwargs)
    if config.init_from_clip:
        from .init_from_clip import viclip_from_clip

        model = viclip_from_clip(
            config.init_from_clip, num_frames=config.num_frames, image_size=config.image_size
        )
        model.set_attn_implementation(config.attn_implementation)
        return model
    overrides = dict(config.model_config)
    vision = {**vision_overrides, **overrides.pop("vision_config", {})}
    model_config = ViCLIPConfig.from_preset(config.model_preset, vision_config=vision, **overrides)
    model_config._attn_implementation = config.attn_implementation
    return ViCLIPModel(model_config)


def set_training_regularisation(model: ViCLIPModel, mask_ratio: float, drop_path_rate: float) -> None:
    """Set the token-masking ratio and the stochastic-depth rates (0 at the first block, `drop_path_rate`
    at the last) of the video tower, also on a model that was built with other values."""
    from ..modeling.modeling_viclip import ViCLIPDropPath

    for vision_config in {id(c): c for c in (model.config.vision_config, model.vision_model.config)}.values():
        vision_config.mask_ratio = mask_ratio
        vision_config.drop_path_rate = drop_path_rate
    layers = model.vision_model.encoder.layers
    for i, layer in enumerate(layers):
        for module in layer.modules():
            if isinstance(module, ViCLIPDropPath):
                module.drop_prob = drop_path_rate * i / max(len(layers) - 1, 1)


def prepare_model_for_training(model: ViCLIPModel, config: TrainingConfig) -> ViCLIPModel:
    """Apply the recipe switches: masking, drop-path, frozen text tower, gradient checkpointing."""
    set_training_regularisation(model, config.mask_ratio, config.drop_path_rate)
    if config.freeze_text:
        for param in [*model.text_model.parameters(), *model.text_projection.parameters()]:
            param.requires_grad_(False)
    if config.gradient_checkpointing:
        model.activation_checkpointing_enable()
    model.train()
    return model


def save_final_model(
    model: ViCLIPModel,
    state_dict: dict[str, torch.Tensor] | None,
    out_dir: Path,
    processor: Any,
    is_main_process: bool,
) -> None:
    """A Hub folder (model + processor) that `AutoModel.from_pretrained` loads. Training-only settings
    (masking, drop-path) are not saved: the folder describes the model, not the run."""
    vision = model.config.vision_config
    saved = (vision.mask_ratio, vision.drop_path_rate)
    vision.mask_ratio, vision.drop_path_rate = 0.0, 0.0
    try:
        model.save_pretrained(out_dir, state_dict=state_dict, is_main_process=is_main_process)
        if is_main_process and processor is not None:
            processor.save_pretrained(out_dir)
    finally:
        vision.mask_ratio, vision.drop_path_rate = saved


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


def _random_frames_transform_cls():
    from ..data import ViCLIPExampleTransform

    class RandomFramesTransform(ViCLIPExampleTransform):
        """Training frame sampling without crop/flip: a flip would turn "moves to the left" into a lie."""

        def __call__(self, row: dict[str, Any]) -> dict[str, Any]:
            clip = {
                "path": row["video_path"],
                "start_sec": row["clip_start_sec"],
                "end_sec": row["clip_end_sec"],
            }
            pixel_values = self.processor.video_processor(
                clip, sampling="random", do_train_augmentation=False, seed=self._example_seed(row["row_index"]),
                num_threads=self.decode_threads, return_tensors="pt",
            )["pixel_values_videos"][0]  # fmt: skip
            text = self.processor(text=row["caption"], return_tensors="pt")
            return {"pixel_values_videos": pixel_values, "input_ids": text["input_ids"][0],
                    "attention_mask": text["attention_mask"][0], "caption": row["caption"]}  # fmt: skip

    return RandomFramesTransform


def build_train_dataset(config: TrainingConfig, image_size: int, accelerator: Any):
    """`load_internvid` over the training annotations, split across processes; returns (dataset, stats)."""
    from datasets.distributed import split_dataset_by_node

    from ..data import SkipStats, ViCLIPExampleTransform, load_internvid

    if not config.train_annotations or not config.video_root:
        raise ConfigError("train_annotations and video_root are required (or a `synthetic` section)")
    world, workers = accelerator.num_processes, max(config.num_workers, 1)
    num_shards = world * workers * max(1, math.ceil(16 / (world * workers)))
    stats = SkipStats()
    transform_cls = ViCLIPExampleTransform if config.augment else _random_frames_transform_cls()
    transform = transform_cls(
        training=True,
        num_frames=config.num_frames,
        image_size=image_size,
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


def build_eval_examples(config: TrainingConfig, image_size: int) -> list[dict[str, Any]]:
    """The held-out split as a list (every process holds all of it; it is meant to be small)."""
    from ..data import load_internvid

    dataset = load_internvid(
        data_files=config.eval_annotations,
        video_root=config.eval_video_root or config.video_root,
        training=False,
        shuffle=False,
        num_frames=config.num_frames,
        image_size=image_size,
        clean_captions=config.clean_captions,
        num_shards=1,
    )
    examples = []
    for example in dataset:
        examples.append(example)
        if config.eval_max_clips and len(examples) >= config.eval_max_clips:
            break
    return examples


def _processor_for(config: TrainingConfig, model: ViCLIPModel) -> Any:
    from ..processing import ViCLIPProcessor

    if config.init_from:
        try:
            return ViCLIPProcessor.from_pretrained(config.init_from)
        except (OSError, ValueError):
            logger.info("no processor in %s; saving the default one", config.init_from)
    vision = model.config.vision_config
    return ViCLIPProcessor.for_model(vision.image_size, vision.num_frames)


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

    mixed_precision = config.mixed_precision
    if mixed_precision == "auto":
        mixed_precision = "bf16" if torch.cuda.is_available() else "no"
    has_device = torch.cuda.is_available() or torch.backends.mps.is_available()
    has_device = has_device or (hasattr(torch, "xpu") and torch.xpu.is_available())
    return Accelerator(
        cpu=not has_device,  # without it, CPU-only processes started by torchrun would not form a group
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        mixed_precision=mixed_precision,
        log_with=_resolve_trackers(config.report_to) or None,
        project_config=ProjectConfiguration(project_dir=config.output_dir, logging_dir=config.output_dir),
        step_scheduler_with_optimizer=False,  # the schedule is in optimiser steps; stepped by hand
    )


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
        processor: saved with the final model (default: the model's `ViCLIPProcessor`).
        accelerator: an `Accelerator` to use (default: one built from `config`).
    """
    from accelerate.utils import set_seed

    accelerator = accelerator or _make_accelerator(config)
    if accelerator.is_main_process:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    output_dir = Path(config.output_dir)
    config = _maybe_generate_synthetic(config, accelerator)
    checkpoints = CheckpointManager(output_dir, config.save_total_limit)
    resume_path = checkpoints.resolve(config.resume_from) if config.resume_from else None

    set_seed(config.seed)  # identical initial weights on every process
    model = model if model is not None else build_model(config)
    model = prepare_model_for_training(model, config)
    image_size = model.config.vision_config.image_size
    pad_token_id = model.config.text_config.pad_token_id
    collate_fn = collate_fn or ViCLIPDataCollator(
        pad_token_id=49407 if pad_token_id is None else pad_token_id, return_loss=False
    )
    skip_stats = None
    if train_dataset is None:
        train_dataset, skip_stats = build_train_dataset(config, image_size, accelerator)
    if eval_examples is None and config.eval_annotations:
        eval_examples = build_eval_examples(config, image_size)

    module = ContrastiveTrainingModule(model)
    optimizer = build_optimizer(
        module, config.learning_rate, tuple(config.betas), config.adam_eps, config.weight_decay
    )
    scheduler = build_scheduler(optimizer, config.num_warmup_steps, config.max_steps, config.min_lr_ratio)
    deepspeed_plugin = getattr(accelerator.state, "deepspeed_plugin", None)
    if deepspeed_plugin is not None:  # no DataLoader goes through prepare(): tell DeepSpeed the batch size
        deepspeed_plugin.deepspeed_config["train_micro_batch_size_per_gpu"] = config.per_device_batch_size
    module, optimizer, scheduler = accelerator.prepare(module, optimizer, scheduler)
    set_seed(config.seed + accelerator.process_index)  # different masks and drop-path on every process

    step, epoch, positions = 0, 0, {}
    if resume_path is not None:
        state = checkpoints.load(accelerator, resume_path)
        step, epoch = state["step"], state["epoch"]
        positions = {int(k): v for k, v in state["stream_positions"].items()}
        logger.info("resumed from %s at step %d", resume_path, step)
    if step >= config.max_steps:
        logger.info("nothing to do: step %d >= max_steps %d", step, config.max_steps)

    if accelerator.trackers:
        accelerator.init_trackers(config.project_name, config=_tracker_config(config))
    metrics_file = output_dir / "metrics.jsonl"
    if accelerator.is_main_process:
        output_dir.mkdir(parents=True, exist_ok=True)
        config.save(output_dir / "training_config.yaml")

    history: list[dict[str, Any]] = []
    eval_metrics = None
    device = accelerator.device
    unwrapped = accelerator.unwrap_model(module).model
    global_batch = config.per_device_batch_size * accelerator.num_processes

    def run_eval() -> dict[str, float]:
        module.eval()
        metrics = evaluate_retrieval(module, eval_examples, collate_fn, config.eval_batch_size, device)
        module.train()
        return metrics

    def log(row: dict[str, Any]) -> None:
        history.append(row)
        if accelerator.trackers:
            accelerator.log({k: v for k, v in row.items() if k != "step"}, step=row["step"])
        if accelerator.is_main_process:
            with open(metrics_file, "a") as f:
                f.write(json.dumps(row) + "\n")

    progress = tqdm(
        total=config.max_steps, initial=step, desc="training", unit="step",
        disable=not (config.progress and accelerator.is_local_main_process),
    )  # fmt: skip
    window_loss, window_micro, window_start = 0.0, 0, time.perf_counter()
    if hasattr(train_dataset, "set_epoch"):
        train_dataset.set_epoch(epoch)
    while step < config.max_steps:
        stream = ResumableStream(train_dataset, positions)
        loader = DataLoader(
            stream,
            batch_size=config.per_device_batch_size,
            collate_fn=StreamCollator(collate_fn),
            num_workers=0 if isinstance(train_dataset, InMemoryStream) else config.num_workers,
            drop_last=True,  # every process must contribute the same number of clips to the global batch
            pin_memory=device.type == "cuda",
            # An own generator: creating the iterator must not draw from the global RNG (exact resume).
            generator=torch.Generator().manual_seed(config.seed + 1000 * epoch + accelerator.process_index),
            persistent_workers=False,
        )
        batches, fresh_epoch = 0, not positions
        for batch in loader:
            batches += 1
            positions.update(batch.pop(STREAM_KEY))
            with accelerator.accumulate(module):
                video, text, logit_scale = module(
                    input_ids=batch["input_ids"].to(device, non_blocking=True),
                    pixel_values_videos=batch["pixel_values_videos"].to(device, non_blocking=True),
                    attention_mask=batch["attention_mask"].to(device, non_blocking=True),
                )
                loss, _ = contrastive_loss(video, text, logit_scale)
                accelerator.backward(loss)
                if accelerator.sync_gradients and config.max_grad_norm:
                    accelerator.clip_grad_norm_(module.parameters(), config.max_grad_norm)
                optimizer.step()
                if accelerator.sync_gradients:
                    scheduler.step()
                optimizer.zero_grad(set_to_none=True)
            window_loss += loss.detach().float().item()
            window_micro += 1
            if not accelerator.sync_gradients:
                continue
            step += 1
            progress.update(1)
            if step % config.log_steps == 0 or step == config.max_steps:
                elapsed = time.perf_counter() - window_start
                row = {
                    "step": step,
                    "loss": window_loss / window_micro,
                    "lr": scheduler.get_last_lr()[0],
                    "logit_scale": float(logit_scale.detach()),
                    "clips_per_s": window_micro * global_batch / max(elapsed, 1e-9),
                    "epoch": epoch,
                }
                if skip_stats is not None:
                    row.update(_global_skips(skip_stats, accelerator))
                log(row)
                progress.set_postfix(loss=f"{row['loss']:.4f}", lr=f"{row['lr']:.2e}")
                window_loss, window_micro, window_start = 0.0, 0, time.perf_counter()
            if (
                eval_examples
                and config.eval_steps
                and step % config.eval_steps == 0
                and step < config.max_steps
            ):
                eval_metrics = run_eval()
                log({"step": step, **{f"eval/{k}": v for k, v in eval_metrics.items()}})
            if config.save_steps and step % config.save_steps == 0:
                trainer_state = {
                    "epoch": epoch,
                    "stream_positions": {str(k): v for k, v in positions.items()},
                }
                checkpoints.save(accelerator, step, trainer_state)
            if step >= config.max_steps:
                break
        else:
            if batches == 0 and fresh_epoch:
                raise RuntimeError(
                    f"the training stream gave no full batch of {config.per_device_batch_size} clips "
                    f"(epoch {epoch}); is the data empty or smaller than one batch per process?"
                )
            epoch += 1
            positions = {}
            if hasattr(train_dataset, "set_epoch"):
                train_dataset.set_epoch(epoch)
    progress.close()

    if eval_examples:
        eval_metrics = run_eval()
        log({"step": step, **{f"eval/{k}": v for k, v in eval_metrics.items()}})
        if accelerator.is_main_process:
            logger.info("retrieval on %d held-out clips: %s", len(eval_examples), _format(eval_metrics))

    accelerator.wait_for_everyone()
    final_dir = output_dir / "final"
    state_dict = accelerator.get_state_dict(module)
    if state_dict is not None:
        state_dict = {k.removeprefix("model."): v for k, v in state_dict.items()}
    save_final_model(
        unwrapped,
        state_dict,
        final_dir,
        processor or _processor_for(config, unwrapped),
        accelerator.is_main_process,
    )
    if accelerator.is_main_process:
        logger.info("saved the final model and processor to %s", final_dir)
    accelerator.wait_for_everyone()
    accelerator.end_training()
    return TrainResult(step=step, final_dir=final_dir, history=history, eval_metrics=eval_metrics)


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
    return ", ".join(f"{k} {v:.1f}" for k, v in metrics.items() if "R@" in k)


# ------------------------------------------------------------------------------------------------- CLI


def parse_args(argv: list[str] | None) -> TrainingConfig:
    """``--config FILE`` plus ``--key value`` overrides of any `TrainingConfig` field (``--resume`` is
    ``--resume_from``)."""
    parser = argparse.ArgumentParser(
        prog="viclip train",
        description="Train or fine-tune ViCLIP. Any TrainingConfig field can be overridden with --key value.",
        epilog="Fields: " + ", ".join(TrainingConfig.__dataclass_fields__),
    )
    parser.add_argument("--config", help="YAML or JSON training config")
    parser.add_argument("--resume", dest="resume_from", help='"latest" or a checkpoint folder')
    parser.add_argument("--print_config", action="store_true", help="print the resolved config and exit")
    args, rest = parser.parse_known_args(argv)
    config = TrainingConfig.from_file(args.config) if args.config else TrainingConfig()
    overrides = list(rest)
    if args.resume_from:
        overrides += ["--resume_from", args.resume_from]
    config = config.with_overrides(overrides) if overrides else config
    if args.print_config:
        print(json.dumps(config.to_dict(), indent=2))
        raise SystemExit(0)
    return config


def main(argv: list[str] | None = None) -> int:
    """Entry point of `viclip train` and `python -m viclip.training.train`."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        config = parse_args(argv)
        train(config)
    except (ConfigError, CheckpointError, FileNotFoundError) as error:
        print(f"viclip train: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
