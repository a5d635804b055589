"""Fine-tune ``ViCLIPForVideoClassification`` with the ``transformers`` ``Trainer`` (`viclip finetune-classifier`).

Knobs of the usual video fine-tuning recipes: layer-wise learning-rate decay, label smoothing,
drop-path, warm-up + cosine schedule, mixed precision on GPU, gradient checkpointing, and multi-view
testing (``eval_clips`` x ``eval_crops``, logits averaged). The optimiser groups, the mixed-precision policy and
the model sizes are those of `viclip train` (:mod:`viclip.training`). Top-1/top-5 accuracy are computed
with the local ``evaluate`` metric of :mod:`viclip.evaluation.metrics` (no Hub download).
The output folder is a complete Hub folder (model, video processor, remote code, model card) with
``eval_results.json``; it loads in ``pipeline("video-classification", model=folder)``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from transformers import Trainer, TrainingArguments

from ..data.model_processor import default_processor, load_model_processor
from ..modeling import ViCLIPConfig, ViCLIPForVideoClassification
from ..modeling.scratch_init import randomize_temporal_embedding
from ..processing import ViCLIPProcessor
from ..training.model_sizes import config_for_size
from ..training.optim import param_groups
from ..training.precision import trainer_precision_flags
from .data import (
    LabelledVideoDataset,
    VideoClassificationCollator,
    load_video_classification_dataset,
    prepare_for_training,
)

logger = logging.getLogger(__name__)


@dataclass
class FinetuneConfig:
    """Settings of `finetune_classifier` (the flags of `viclip finetune-classifier`). A setting that `viclip train`
    also has bears the same name there (`viclip.training.TrainingConfig`)."""

    train: str
    """Labelled list (CSV/TSV/JSONL: path,start_sec,end_sec,label) or a folder of class folders."""
    output_dir: str
    eval: str | None = None
    labels: Sequence[str] | None = None
    """Class names in index order (default: the sorted training labels)."""
    verify: bool = True
    """Decode-check every video up front."""
    flip: bool = True
    num_workers: int = 0
    init_from: str | None = None
    """A ViCLIP or classifier folder to start from; the run uses its processor's frames (default: a random init
    of `model_size`)."""
    model_size: str | None = None
    """Size of a random init (`viclip.training.model_sizes`: tiny, small, viclip-b16, viclip-l14; default small)."""
    model_config: dict | None = None
    """Overrides of `model_size` (top-level fields, ``vision_config`` / ``text_config`` dicts): a new model's
    ``vision_config.num_frames`` and ``image_size`` are the frames the run trains on."""
    mask_ratio: float = 0.0
    """Share of patch tokens dropped in training; set in the model's config when it is built."""
    drop_path_rate: float = 0.1
    """Stochastic depth at the last video block; set in the model's config when it is built."""
    classifier_dropout: float = 0.0
    epochs: float = 10.0
    max_steps: int = -1
    per_device_batch_size: int = 16
    eval_batch_size: int = 16
    learning_rate: float = 1e-3
    weight_decay: float = 0.05
    layer_decay: float = 0.75
    warmup_steps: int | None = None
    """Optimiser steps of linear warm-up; `None` uses `warmup_ratio`."""
    warmup_ratio: float = 0.1
    """Share of the steps for warm-up."""
    label_smoothing: float = 0.1
    mixed_precision: str = "auto"
    gradient_checkpointing: bool = False
    eval_clips: int = 1
    eval_crops: int = 1
    logging_steps: int = 10
    seed: int = 0

    def __post_init__(self) -> None:
        if self.init_from and (self.model_size or self.model_config):
            given = " and ".join(n for n in ("model_size", "model_config") if getattr(self, n))
            raise ValueError(f"give either init_from or {given} (a random init), not both")
        if not 0.0 <= self.warmup_ratio < 1.0:
            raise ValueError(f"warmup_ratio must be in [0, 1), got {self.warmup_ratio}")


class LayerDecayTrainer(Trainer):
    """A ``Trainer`` whose optimiser uses `viclip.training.param_groups` (layer-wise lr decay; ``1``: none)."""

    def __init__(self, *args, layer_decay: float = 1.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.layer_decay = layer_decay

    def create_optimizer(self, model: nn.Module | None = None) -> torch.optim.Optimizer:
        if self.optimizer is None:
            opt_model = self.model if model is None else model
            optimizer_cls, optimizer_kwargs = self.get_optimizer_cls_and_kwargs(self.args, opt_model)
            groups = param_groups(
                opt_model,
                self.args.weight_decay,
                learning_rate=self.args.learning_rate,
                layer_decay=self.layer_decay,
            )
            self.optimizer = optimizer_cls(groups, **optimizer_kwargs)
        return self.optimizer


def topk_metrics(num_labels: int, ks: Sequence[int] = (1, 5)):
    """``compute_metrics`` for the Trainer: top-k accuracy in percent (k below the number of classes)."""
    from ..evaluation.metrics import ZeroShotAccuracy

    ks = tuple(k for k in ks if k == 1 or k < num_labels)

    def compute_metrics(eval_pred) -> dict[str, float]:
        logits, labels = eval_pred.predictions, eval_pred.label_ids
        logits = logits[0] if isinstance(logits, tuple) else logits
        metric = ZeroShotAccuracy()
        result = metric.compute(
            predictions=np.asarray(logits).tolist(), references=np.asarray(labels).tolist(), ks=ks
        )
        return {k: v for k, v in result.items() if k != "avg"}

    return compute_metrics


def build_classifier(
    labels: Sequence[str],
    init_from: str | None = None,
    *,
    model_size: str | None = None,
    model_config: dict[str, Any] | None = None,
    mask_ratio: float = 0.0,
    drop_path_rate: float = 0.0,
    classifier_dropout: float = 0.0,
) -> ViCLIPForVideoClassification:
    """The classifier for ``labels``: from a ViCLIP (or classifier) folder, or randomly initialised at a size of
    `viclip.training.model_sizes` (default small) with `model_config`'s overrides. A head of another size is
    re-initialised. The regularisation is set in the config the model is built with."""
    id2label = dict(enumerate(labels))
    label_kwargs = {
        "num_labels": len(labels),
        "id2label": id2label,
        "label2id": {v: k for k, v in id2label.items()},
        "classifier_dropout": classifier_dropout,
    }
    regularisation = {"mask_ratio": mask_ratio, "drop_path_rate": drop_path_rate}
    if init_from is not None:
        if model_size or model_config:
            raise ValueError("give either init_from or model_size / model_config (a random init), not both")
        config = ViCLIPConfig.from_pretrained(init_from)
        config.update(label_kwargs)
        config.vision_config.update(regularisation)
        model, info = ViCLIPForVideoClassification.from_pretrained(
            init_from, config=config, ignore_mismatched_sizes=True, output_loading_info=True
        )
        logger.info("new weights: %s", sorted(info["missing_keys"]))
        logger.info(
            "unused weights: %d (text tower, text projection, logit scale)", len(info["unexpected_keys"])
        )
        return model
    overrides = dict(model_config or {})
    vision = {**overrides.pop("vision_config", {}), **regularisation}
    config = config_for_size(model_size or "small", vision_config=vision, **overrides, **label_kwargs)
    model = ViCLIPForVideoClassification(config)
    randomize_temporal_embedding(model)
    return model


def classifier_processor(model: ViCLIPForVideoClassification, init_from: str | None) -> ViCLIPProcessor:
    """The run's one processor: the `init_from` folder's (checked against its model), else the default one of
    the model's config. The tokenizer travels with it, so the saved folder is complete."""
    if init_from is not None:
        return load_model_processor(init_from, model.config)
    return default_processor(model.config)


def finetune_classifier(config: FinetuneConfig) -> dict[str, Any]:
    """Fine-tune, evaluate, save a complete Hub folder; returns the final evaluation metrics (empty without
    an evaluation list)."""
    labels = list(config.labels) if config.labels else None
    num_proc = config.num_workers or None
    train_data: LabelledVideoDataset = load_video_classification_dataset(
        config.train, labels, verify=config.verify, num_proc=num_proc
    )
    eval_data = None
    if config.eval:
        eval_data = load_video_classification_dataset(
            config.eval, train_data.labels, verify=config.verify, num_proc=num_proc
        )

    torch.manual_seed(config.seed)
    model = build_classifier(
        train_data.labels, config.init_from, model_size=config.model_size, model_config=config.model_config,
        mask_ratio=config.mask_ratio, drop_path_rate=config.drop_path_rate,
        classifier_dropout=config.classifier_dropout,
    )  # fmt: skip
    processor = classifier_processor(model, config.init_from)
    train_ds = prepare_for_training(train_data, processor.video_processor, training=True, flip=config.flip)
    eval_ds = None
    if eval_data is not None:
        eval_ds = prepare_for_training(
            eval_data,
            processor.video_processor,
            training=False,
            num_clips=config.eval_clips,
            num_crops=config.eval_crops,
        )

    training_args = TrainingArguments(
        output_dir=config.output_dir,
        num_train_epochs=config.epochs,
        max_steps=config.max_steps,
        per_device_train_batch_size=config.per_device_batch_size,
        per_device_eval_batch_size=config.eval_batch_size,
        learning_rate=config.learning_rate,
        weight_decay=config.weight_decay,
        # TrainingArguments reads a warm-up below 1 as a share of the steps
        warmup_steps=config.warmup_steps if config.warmup_steps is not None else config.warmup_ratio,
        lr_scheduler_type="cosine",
        label_smoothing_factor=config.label_smoothing,
        activation_checkpointing=config.gradient_checkpointing,
        dataloader_pin_memory=torch.cuda.is_available(),
        eval_strategy="epoch" if eval_ds is not None else "no",
        save_strategy="no",
        logging_steps=config.logging_steps,
        report_to="none",
        remove_unused_columns=False,
        dataloader_num_workers=config.num_workers,
        seed=config.seed,
        **trainer_precision_flags(config.mixed_precision),
    )
    trainer = LayerDecayTrainer(
        model=model,
        args=training_args,
        train_dataset=train_ds,
        eval_dataset=eval_ds,
        data_collator=VideoClassificationCollator(),
        compute_metrics=topk_metrics(len(train_data.labels)),
        layer_decay=config.layer_decay,
    )
    trainer.train()

    results: dict[str, Any] = {}
    if eval_ds is not None:
        results = trainer.evaluate()
        results["eval_views"] = config.eval_clips * config.eval_crops
        results["skipped_train_videos"] = train_data.stats.skipped()
        results["skipped_eval_videos"] = eval_data.stats.skipped()
    if trainer.is_world_process_zero():
        save_classifier(trainer.model, processor, config, results)
    return results


def save_classifier(
    model: ViCLIPForVideoClassification, processor: ViCLIPProcessor, config: FinetuneConfig, results: dict
) -> None:
    """The output folder: a complete Hub folder (`viclip.hub.save_hub_folder`) plus ``eval_results.json``.
    (Not ``trainer.save_model``: no pickled ``training_args.bin``.)"""
    from ..hub import save_hub_folder
    from ..hub.model_card import build_trained_model_card

    output_dir = Path(config.output_dir)
    training = f"Fine-tuned with `viclip finetune-classifier` on `{config.train}`."
    if "eval_top1" in results:
        training += f" Top-1 accuracy on `{config.eval}`: {results['eval_top1']:.1f}%."
    card = build_trained_model_card(model, repo_id=output_dir.name, training=training)
    # The Trainer's logs already live in output_dir: the Hub folder replaces it as a whole.
    save_hub_folder(model, processor, output_dir, model_card=card, force=True)
    if results:
        tmp = output_dir / "eval_results.json.tmp"
        tmp.write_text(json.dumps(results, indent=2) + "\n")
        tmp.replace(output_dir / "eval_results.json")
