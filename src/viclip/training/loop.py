"""ViCLIP's contrastive training through Accelerate, from one CPU to many GPU nodes (`viclip train`).

    viclip train --config synthetic_cpu [--key value ...] [--resume latest]
    accelerate launch --config_file configs/accelerate/multi_gpu.yaml -m viclip_cli train --config ...
    torchrun --nproc_per_node 2 -m viclip_cli train --config ...      # several CPU processes

Library use: :func:`train` takes a `TrainingConfig` and, optionally, a model and datasets built in Python.
A run is `setup` -> `TrainingRun.training_step` per micro-batch -> `TrainingRun.on_step_end` per optimiser step
(logging, evaluation, checkpoints) -> `TrainingRun.finalize` (final evaluation, the Hub folder ``final/``).
What it trains is built in :mod:`.building` (model, processor) and :mod:`.run_data` (data); the Accelerator in
:mod:`.accelerator`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import torch
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from ..modeling import ViCLIPModel
from ..processing import ViCLIPProcessor
from .accelerator import global_skips, make_accelerator, tracker_config
from .building import build_model, prepare_model_for_training, processor_for_run, save_final_model
from .checkpointing import CheckpointManager
from .collator import ViCLIPDataCollator
from .config import ConfigError, TrainingConfig
from .loss import ContrastiveTrainingModule, gathered_contrastive_loss
from .optim import build_optimizer, build_scheduler
from .run_data import build_eval_examples, build_train_dataset, generate_synthetic_data
from .stream import STREAM_KEY, InMemoryStream, ResumableStream, StreamCollator

if TYPE_CHECKING:
    from accelerate import Accelerator
    from typing_extensions import Unpack  # typing.Unpack from Python 3.11 on

    from ..data import SkipStats

logger = logging.getLogger(__name__)

Example = dict[str, Any]
Collator = Callable[[list[Example]], dict[str, Any]]


@dataclass
class TrainResult:
    """What a run produced."""

    step: int
    final_dir: Path | None
    history: list[dict[str, Any]] = field(default_factory=list)
    """Logged metrics (the same rows as ``metrics.jsonl``)."""
    eval_metrics: dict[str, float] | None = None


class TrainingRun:
    """The state of one run and its phases; built by `setup`, driven by `train`."""

    def __init__(
        self,
        config: TrainingConfig,
        accelerator: Accelerator,
        module: torch.nn.Module,
        optimizer: torch.optim.Optimizer,
        scheduler: torch.optim.lr_scheduler.LRScheduler,
        train_dataset: Iterable[Example],
        eval_examples: list[Example] | None,
        collate_fn: Collator,
        processor: ViCLIPProcessor,
        checkpoints: CheckpointManager,
        skip_stats: SkipStats | None = None,
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

    def restore(self, checkpoint: Path) -> None:
        """Resume from `checkpoint`: weights, optimiser, schedule and RNG, the step, epoch and stream positions."""
        state = self.checkpoints.load(self.accelerator, checkpoint)
        self.step, self.epoch = state["step"], state["epoch"]
        self.positions = {int(k): v for k, v in state["stream_positions"].items()}
        logger.info("resumed from %s at step %d", checkpoint, self.step)

    # -- the data --------------------------------------------------------------------------------------
    def batches(self) -> Iterator[dict[str, torch.Tensor]]:
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
    def training_step(self, batch: dict[str, torch.Tensor]) -> bool:
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
            row.update(global_skips(self.skip_stats, self.accelerator))
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
        """Text-to-video and video-to-text R@K on the held-out examples, with the metric of `viclip.evaluation`:
        examples of the same clip (several captions) count as one video, as `viclip evaluate retrieval` does.
        Every process runs it (the module may be sharded)."""
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
        clips: dict[Any, int] = {}  # clip -> its video index
        first: list[int] = []  # video index -> the first example of the clip
        text_to_video = []
        for i, example in enumerate(self.eval_examples):
            key = _clip_key(example, i)
            if key not in clips:
                clips[key] = len(first)
                first.append(i)
            text_to_video.append(clips[key])
        similarity = torch.cat(texts) @ torch.cat(videos)[first].t()
        self.eval_metrics = retrieval_metrics(similarity, text_to_video)
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


class RunParts(TypedDict, total=False):
    """The parts of a run that a caller may build in Python: the keyword arguments of `train` and `setup` (each
    one left out is built from the config; see `train`)."""

    model: ViCLIPModel | None
    train_dataset: Iterable[Example] | None
    eval_examples: list[Example] | None
    collate_fn: Collator | None
    processor: ViCLIPProcessor | None
    accelerator: Accelerator | None


def setup(config: TrainingConfig, **parts: Unpack[RunParts]) -> TrainingRun:
    """Build everything a run needs (arguments as in `train`) and restore a checkpoint when resuming."""
    from accelerate.utils import set_seed

    unknown = sorted(set(parts) - set(RunParts.__annotations__))
    if unknown:
        raise TypeError(f"setup() and train() got unexpected keyword arguments {unknown}")
    accelerator = parts.get("accelerator") or make_accelerator(config)
    if accelerator.is_main_process:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    output_dir = Path(config.output_dir)
    config = generate_synthetic_data(config, accelerator)
    checkpoints = CheckpointManager(output_dir, config.save_total_limit)
    resume_path = checkpoints.resolve(config.resume_from) if config.resume_from else None

    set_seed(config.seed)  # identical initial weights on every process
    model = parts.get("model")
    if model is not None and (config.init_from or config.init_from_clip_model or config.model_config):
        raise ConfigError(
            "give either a model or the config's init_from / init_from_clip_model / model_config, not both"
        )
    model = prepare_model_for_training(model if model is not None else build_model(config), config)
    processor = processor_for_run(config, model, parts.get("processor"))
    pad_token_id = model.config.text_config.pad_token_id
    collate_fn = parts.get("collate_fn") or ViCLIPDataCollator(
        pad_token_id=49407 if pad_token_id is None else pad_token_id, return_loss=False
    )
    train_dataset, skip_stats = parts.get("train_dataset"), None
    if train_dataset is None:
        train_dataset, skip_stats = build_train_dataset(config, processor, accelerator)
    eval_examples = parts.get("eval_examples")
    if eval_examples is None and (config.eval_annotations or config.eval_clips):
        eval_examples = build_eval_examples(config, processor)

    module, optimizer, scheduler = _prepared_optimisation(model, config, accelerator)
    set_seed(config.seed + accelerator.process_index)  # different masks and drop-path on every process
    run = TrainingRun(
        config, accelerator, module, optimizer, scheduler, train_dataset, eval_examples, collate_fn, processor,
        checkpoints, skip_stats,
    )  # fmt: skip
    if resume_path is not None:
        run.restore(resume_path)
    if run.step >= config.max_steps:
        logger.info("nothing to do: step %d >= max_steps %d", run.step, config.max_steps)
    if accelerator.trackers:
        accelerator.init_trackers(config.project_name, config=tracker_config(config))
    if accelerator.is_main_process:
        output_dir.mkdir(parents=True, exist_ok=True)
        config.save(output_dir / "training_config.yaml")
    return run


def _prepared_optimisation(
    model: ViCLIPModel, config: TrainingConfig, accelerator: Accelerator
) -> tuple[torch.nn.Module, torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler]:
    """The training module, its optimiser and schedule, through `accelerator.prepare` (DDP, FSDP, DeepSpeed)."""
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
    return accelerator.prepare(module, optimizer, scheduler)


def train(config: TrainingConfig, **parts: Unpack[RunParts]) -> TrainResult:
    """Train ViCLIP with `config`.

    Args:
        config: the run settings.

    Keyword arguments (:class:`RunParts`; each one left out is built from `config`):
        model: a `ViCLIPModel` to train instead of building one from `config`.
        train_dataset: this process's training examples (an iterable of dicts with ``pixel_values_videos``,
            ``input_ids``, ``attention_mask``), instead of `load_internvid` over `config.train_annotations`.
            With ``state_dict()``/``load_state_dict()`` it resumes in O(1); otherwise by skipping.
        eval_examples: held-out examples for retrieval evaluation (instead of `config.eval_annotations` /
            `eval_clips`).
        collate_fn: batches examples (default: `ViCLIPDataCollator` without ``return_loss``).
        processor: the run's processor (default: the `init_from` folder's, else the default one of the model's
            config): the training and evaluation examples are made with it, and it is saved with the final model.
        accelerator: an `Accelerator` to use (default: one built from `config`).
    """
    run = setup(config, **parts)
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


def _clip_key(example: Example, index: int) -> Any:
    """What makes two held-out examples the same clip: their video file and segment (else none)."""
    if example.get("video_path") is None:
        return index
    return (example["video_path"], example.get("start_sec"), example.get("end_sec"))


def _format(metrics: dict[str, float]) -> str:
    """R@K figures as text; a K above the number of clips has no value (not applicable)."""
    return ", ".join(f"{k} {v:.1f}" if v is not None else f"{k} n/a" for k, v in metrics.items() if "R@" in k)
