"""Fine-tune ``ViCLIPForVideoClassification`` with the ``transformers`` ``Trainer``.

``viclip finetune-classifier --train train.csv --eval eval.csv --model VICLIP_FOLDER --output-dir out``

Knobs of the usual video fine-tuning recipes: layer-wise learning-rate decay, label smoothing,
drop-path, warm-up + cosine schedule, mixed precision on GPU, gradient checkpointing, and multi-view
testing (``--eval-clips`` x ``--eval-crops``, logits averaged). Top-1/top-5 accuracy are computed
with the local ``evaluate`` metric of :mod:`viclip.evaluation.metrics` (no Hub download).
The output folder gets the model, its video processor and ``eval_results.json``; it loads in
``pipeline("video-classification", model=folder)``.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from transformers import Trainer, TrainingArguments

from ..modeling import ViCLIPConfig, ViCLIPForVideoClassification
from ..modeling.scratch_init import randomize_temporal_embedding
from ..processing import ViCLIPVideoProcessor
from .data import (
    LabelledVideoDataset,
    VideoClassificationCollator,
    load_video_classification_dataset,
    prepare_for_training,
)

logger = logging.getLogger(__name__)

# Randomly initialised sizes for quick experiments; "viclip-b16"/"viclip-l14" are the released sizes.
SCRATCH_SIZES: dict[str, dict[str, int]] = {
    "tiny": {"hidden_size": 64, "intermediate_size": 256, "num_hidden_layers": 2, "num_attention_heads": 4},
    "small": {"hidden_size": 128, "intermediate_size": 512, "num_hidden_layers": 4, "num_attention_heads": 4},
}
_TINY_TEXT = {"vocab_size": 1000, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
              "num_attention_heads": 2, "pad_token_id": 0, "bos_token_id": 998, "eos_token_id": 999}  # fmt: skip
_NO_WEIGHT_DECAY = re.compile(
    r"(bias$|norm|class_embedding$|position_embedding\.weight$|temporal_embedding$)"
)


def layer_id(name: str, num_layers: int) -> int:
    """Depth of a parameter for layer-wise decay: 0 for the embeddings, ``i + 1`` for block ``i``, and
    ``num_layers + 1`` for ``post_layernorm``, the projection and the head."""
    if name.startswith(("vision_model.embeddings.", "vision_model.pre_layernorm.")):
        return 0
    match = re.match(r"vision_model\.encoder\.layers\.(\d+)\.", name)
    return int(match.group(1)) + 1 if match else num_layers + 1


def layer_decay_param_groups(
    model: ViCLIPForVideoClassification, learning_rate: float, weight_decay: float, layer_decay: float
) -> list[dict[str, Any]]:
    """Optimizer groups with ``lr = learning_rate * layer_decay ** (num_layers + 1 - depth)``; no weight decay
    on biases, norms and embedding tables."""
    num_layers = model.config.vision_config.num_hidden_layers
    groups: dict[tuple[int, bool], dict[str, Any]] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        depth = layer_id(name, num_layers)
        decay = param.ndim > 1 and not _NO_WEIGHT_DECAY.search(name)
        group = groups.setdefault(
            (depth, decay),
            {
                "params": [],
                "lr": learning_rate * layer_decay ** (num_layers + 1 - depth),
                "weight_decay": weight_decay if decay else 0.0,
            },
        )
        group["params"].append(param)
    return [groups[key] for key in sorted(groups)]


class LayerDecayTrainer(Trainer):
    """A ``Trainer`` whose optimizer applies layer-wise learning-rate decay (``layer_decay=1``: none)."""

    def __init__(self, *args, layer_decay: float = 1.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.layer_decay = layer_decay

    def create_optimizer(self, model: nn.Module | None = None) -> torch.optim.Optimizer:
        if self.optimizer is None:
            opt_model = self.model if model is None else model
            optimizer_cls, optimizer_kwargs = self.get_optimizer_cls_and_kwargs(self.args, opt_model)
            groups = layer_decay_param_groups(
                opt_model, self.args.learning_rate, self.args.weight_decay, self.layer_decay
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


def build_model(
    labels: Sequence[str],
    model_path: str | None = None,
    scratch: str = "small",
    image_size: int = 32,
    patch_size: int = 8,
    num_frames: int = 8,
    drop_path: float = 0.0,
    classifier_dropout: float = 0.0,
) -> ViCLIPForVideoClassification:
    """The classifier for ``labels``: from a ViCLIP (or classifier) folder, or randomly initialised at a size
    of :data:`SCRATCH_SIZES` / a released preset. A head of another size is re-initialised."""
    id2label = dict(enumerate(labels))
    label_kwargs = {
        "num_labels": len(labels),
        "id2label": id2label,
        "label2id": {v: k for k, v in id2label.items()},
    }
    if model_path is not None:
        config = ViCLIPConfig.from_pretrained(model_path)
        config.update({**label_kwargs, "classifier_dropout": classifier_dropout})
        config.vision_config.drop_path_rate = drop_path
        model, info = ViCLIPForVideoClassification.from_pretrained(
            model_path, config=config, ignore_mismatched_sizes=True, output_loading_info=True
        )
        logger.info("new weights: %s", sorted(info["missing_keys"]))
        logger.info(
            "unused weights: %d (text tower, text projection, logit scale)", len(info["unexpected_keys"])
        )
        return model
    vision = {
        "image_size": image_size,
        "patch_size": patch_size,
        "num_frames": num_frames,
        "drop_path_rate": drop_path,
    }
    if scratch in SCRATCH_SIZES:
        config = ViCLIPConfig(
            vision_config={**SCRATCH_SIZES[scratch], **vision}, text_config=_TINY_TEXT, projection_dim=64,
            **label_kwargs, classifier_dropout=classifier_dropout,
        )  # fmt: skip
    else:
        config = ViCLIPConfig.from_preset(
            scratch, vision_config=vision, **label_kwargs, classifier_dropout=classifier_dropout
        )
    model = ViCLIPForVideoClassification(config)
    randomize_temporal_embedding(model)
    return model


def load_processor(model: ViCLIPForVideoClassification, model_path: str | None) -> ViCLIPVideoProcessor:
    if model_path is not None and (Path(model_path) / "video_preprocessor_config.json").is_file():
        return ViCLIPVideoProcessor.from_pretrained(model_path)
    vision = model.config.vision_config
    return ViCLIPVideoProcessor.for_model(vision.image_size, vision.num_frames)


def mixed_precision_flags(mode: str) -> dict[str, bool]:
    """``auto``: bf16 on a GPU that has it, else fp16 on GPU, else full precision (CPU)."""
    if mode == "auto":
        if not torch.cuda.is_available():
            mode = "no"
        else:
            mode = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return {"bf16": mode == "bf16", "fp16": mode == "fp16"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="viclip finetune-classifier", description=__doc__.split("\n\n")[0])
    data = parser.add_argument_group("data")
    data.add_argument(
        "--train", required=True, help="labelled list (CSV/TSV/JSONL: path,start,end,label) or class folders"
    )
    data.add_argument("--eval", help="held-out list or class folders (same classes)")
    data.add_argument(
        "--labels", help="comma-separated class names in index order (default: sorted training labels)"
    )
    data.add_argument(
        "--no-verify", action="store_true", help="skip the up-front decode check of every video"
    )
    data.add_argument(
        "--no-flip", action="store_true", help="no horizontal flip in training (labels that a mirror changes)"
    )
    data.add_argument(
        "--num-workers",
        type=int,
        default=0,
        help="DataLoader workers (and processes of the up-front video check)",
    )
    model = parser.add_argument_group("model")
    model.add_argument("--model", help="ViCLIP or classifier folder to start from (default: random init)")
    model.add_argument(
        "--scratch", default="small", help="size of a random init: tiny, small, viclip-b16, viclip-l14"
    )
    model.add_argument("--image-size", type=int, default=32, help="frame size of a random init")
    model.add_argument("--patch-size", type=int, default=8, help="patch size of a random init")
    model.add_argument("--num-frames", type=int, default=8, help="frames per clip of a random init")
    train = parser.add_argument_group("training")
    train.add_argument("--output-dir", required=True)
    train.add_argument("--epochs", type=float, default=10.0)
    train.add_argument("--max-steps", type=int, default=-1)
    train.add_argument("--batch-size", type=int, default=16)
    train.add_argument("--eval-batch-size", type=int, default=16)
    train.add_argument("--lr", type=float, default=1e-3)
    train.add_argument("--weight-decay", type=float, default=0.05)
    train.add_argument("--layer-decay", type=float, default=0.75, help="layer-wise lr decay (1: none)")
    train.add_argument(
        "--warmup", type=float, default=0.1, help="warm-up steps, or a fraction of the steps if < 1"
    )
    train.add_argument("--label-smoothing", type=float, default=0.1)
    train.add_argument("--drop-path", type=float, default=0.1)
    train.add_argument("--classifier-dropout", type=float, default=0.0)
    train.add_argument("--mixed-precision", choices=["auto", "no", "fp16", "bf16"], default="auto")
    train.add_argument("--gradient-checkpointing", action="store_true")
    train.add_argument("--eval-clips", type=int, default=1, help="temporal clips per video at evaluation")
    train.add_argument(
        "--eval-crops", type=int, default=1, help="spatial crops per clip at evaluation (1 or 3)"
    )
    train.add_argument("--logging-steps", type=int, default=10)
    train.add_argument("--seed", type=int, default=0)
    return parser


def run(args: argparse.Namespace) -> dict[str, float]:
    """Fine-tune, evaluate, save; returns the final evaluation metrics (empty without ``--eval``)."""
    labels = args.labels.split(",") if args.labels else None
    train_data: LabelledVideoDataset = load_video_classification_dataset(
        args.train, labels, verify=not args.no_verify, num_proc=args.num_workers or None
    )
    eval_data = None
    if args.eval:
        eval_data = load_video_classification_dataset(
            args.eval, train_data.labels, verify=not args.no_verify, num_proc=args.num_workers or None
        )

    torch.manual_seed(args.seed)
    model = build_model(
        train_data.labels, args.model, args.scratch, args.image_size, args.patch_size, args.num_frames,
        args.drop_path, args.classifier_dropout,
    )  # fmt: skip
    processor = load_processor(model, args.model)
    train_ds = prepare_for_training(train_data, processor, training=True, flip=not args.no_flip)
    eval_ds = None
    if eval_data is not None:
        eval_ds = prepare_for_training(
            eval_data, processor, training=False, num_clips=args.eval_clips, num_crops=args.eval_crops
        )

    training_args = TrainingArguments(
        output_dir=args.output_dir,
        num_train_epochs=args.epochs,
        max_steps=args.max_steps,
        per_device_train_batch_size=args.batch_size,
        per_device_eval_batch_size=args.eval_batch_size,
        learning_rate=args.lr,
        weight_decay=args.weight_decay,
        warmup_steps=args.warmup,
        lr_scheduler_type="cosine",
        label_smoothing_factor=args.label_smoothing,
        activation_checkpointing=args.gradient_checkpointing,
        dataloader_pin_memory=torch.cuda.is_available(),
        eval_strategy="epoch" if eval_ds is not None else "no",
        save_strategy="no",
        logging_steps=args.logging_steps,
        report_to="none",
        remove_unused_columns=False,
        dataloader_num_workers=args.num_workers,
        seed=args.seed,
        **mixed_precision_flags(args.mixed_precision),
    )
    trainer = LayerDecayTrainer(
        model=model,
        args=training_args,
        train_dataset=train_ds,
        eval_dataset=eval_ds,
        data_collator=VideoClassificationCollator(),
        compute_metrics=topk_metrics(len(train_data.labels)),
        layer_decay=args.layer_decay,
    )
    trainer.train()
    if (
        trainer.is_world_process_zero()
    ):  # save_pretrained, not trainer.save_model: no pickled training_args.bin
        trainer.model.save_pretrained(args.output_dir)
        processor.save_pretrained(args.output_dir)

    results: dict[str, Any] = {}
    if eval_ds is not None:
        results = trainer.evaluate()
        results["eval_views"] = args.eval_clips * args.eval_crops
        results["skipped_train_videos"] = train_data.stats.skipped()
        results["skipped_eval_videos"] = eval_data.stats.skipped()
        (Path(args.output_dir) / "eval_results.json").write_text(json.dumps(results, indent=2) + "\n")
    return results


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        results = run(args)
    except (FileNotFoundError, ValueError, OSError) as error:
        print(f"viclip finetune-classifier: error: {error}", file=sys.stderr)
        return 1
    if results:
        print(json.dumps({k: v for k, v in results.items() if k.startswith("eval_")}, indent=2))
    print(f"saved the classifier and its video processor to {args.output_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
