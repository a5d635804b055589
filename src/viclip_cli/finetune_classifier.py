"""Fine-tune ViCLIPForVideoClassification on labelled videos with the transformers Trainer.

    viclip finetune-classifier --train train.csv --eval eval.csv --init-from ./viclip-b16 --output-dir out

Lists are CSV/TSV/JSONL (path,start_sec,end_sec,label) or folders of class folders. The optimiser groups
(layer-wise lr decay), the mixed-precision policy, the model sizes and the names of the settings are those of
`viclip train`. The output
folder is a complete Hub folder with eval_results.json; it loads in pipeline("video-classification").
"""

from __future__ import annotations

import argparse

from .base import UsageError
from .options import check_output_dir, positive_int

EXTRA = ("train", "eval")
HELP = "fine-tune ViCLIPForVideoClassification on labelled videos (Trainer)"
MIXED_PRECISION_MODES = ("auto", "no", "fp16", "bf16")  # viclip.training.precision.MIXED_PRECISION_MODES


def configure(parser: argparse.ArgumentParser) -> None:
    data = parser.add_argument_group("data")
    data.add_argument(
        "--train",
        required=True,
        metavar="LIST",
        help="labelled list (CSV/TSV/JSONL) or a folder of class folders",
    )
    data.add_argument("--eval", metavar="LIST", help="held-out list or class folders (same classes)")
    data.add_argument(
        "--labels",
        metavar='"A,B,C"',
        help="comma-separated class names in index order (default: sorted training labels)",
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
    model = parser.add_argument_group("model (the names of viclip train's settings)")
    model.add_argument(
        "--init-from", metavar="PATH", help="ViCLIP or classifier folder to start from (default: random init)"
    )
    model.add_argument(
        "--model-size", help="size of a random init: tiny, small (default), viclip-b16, viclip-l14"
    )
    model.add_argument(
        "--model-config",
        metavar="JSON",
        help='overrides of a random init\'s config, e.g. \'{"vision_config": {"num_frames": 16}}\' (its frames '
        "are the frames the run trains on)",
    )
    model.add_argument(
        "--mask-ratio", type=float, default=0.0, help="share of patch tokens dropped in training"
    )
    model.add_argument("--drop-path-rate", type=float, default=0.1, help="stochastic depth at the last block")
    model.add_argument("--classifier-dropout", type=float, default=0.0)
    train = parser.add_argument_group("training")
    train.add_argument("--output-dir", required=True, metavar="DIR")
    train.add_argument("--epochs", type=float, default=10.0)
    train.add_argument("--max-steps", type=int, default=-1, help="optimiser steps (default: --epochs)")
    train.add_argument("--per-device-batch-size", type=positive_int, default=16)
    train.add_argument("--eval-batch-size", type=positive_int, default=16)
    train.add_argument("--learning-rate", type=float, default=1e-3)
    train.add_argument("--weight-decay", type=float, default=0.05)
    train.add_argument("--layer-decay", type=float, default=0.75, help="layer-wise lr decay (1: none)")
    train.add_argument(
        "--warmup-steps", type=int, default=None, help="warm-up steps (default: --warmup-ratio)"
    )
    train.add_argument("--warmup-ratio", type=float, default=0.1, help="share of the steps for warm-up")
    train.add_argument("--label-smoothing", type=float, default=0.1)
    train.add_argument(
        "--mixed-precision",
        choices=MIXED_PRECISION_MODES,
        default="auto",
        help="auto: bf16 where the GPU has it, else fp16 on CUDA, else none",
    )
    train.add_argument("--gradient-checkpointing", action="store_true")
    train.add_argument(
        "--eval-clips", type=positive_int, default=1, help="temporal clips per video at evaluation"
    )
    train.add_argument(
        "--eval-crops", type=int, choices=(1, 3), default=1, help="spatial crops per clip at evaluation"
    )
    train.add_argument("--logging-steps", type=positive_int, default=10)
    train.add_argument("--seed", type=int, default=0)


def run(args: argparse.Namespace) -> int:
    import json
    import logging
    from pathlib import Path

    if not Path(args.train).exists():
        raise UsageError(f"--train {args.train!r} does not exist")
    if args.eval and not Path(args.eval).exists():
        raise UsageError(f"--eval {args.eval!r} does not exist")
    check_output_dir(args.output_dir)
    if not 0.0 < args.layer_decay <= 1.0:
        raise UsageError(f"--layer-decay must be in (0, 1], got {args.layer_decay}")

    if args.init_from and (args.model_size or args.model_config):
        raise UsageError("give either --init-from or --model-size / --model-config (a random init), not both")
    model_config = None
    if args.model_config:
        try:
            model_config = json.loads(args.model_config)
        except json.JSONDecodeError as error:
            raise UsageError(f"--model-config is not JSON: {error}") from None
        if not isinstance(model_config, dict):
            raise UsageError(f"--model-config must be a JSON object, got {args.model_config!r}")

    from viclip.classification.finetune import FinetuneConfig, finetune_classifier

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        config = FinetuneConfig(
            train=args.train, output_dir=args.output_dir, eval=args.eval,
            labels=args.labels.split(",") if args.labels else None, verify=not args.no_verify,
            flip=not args.no_flip, num_workers=args.num_workers, init_from=args.init_from,
            model_size=args.model_size, model_config=model_config, mask_ratio=args.mask_ratio,
            drop_path_rate=args.drop_path_rate, classifier_dropout=args.classifier_dropout, epochs=args.epochs,
            max_steps=args.max_steps, per_device_batch_size=args.per_device_batch_size,
            eval_batch_size=args.eval_batch_size, learning_rate=args.learning_rate, weight_decay=args.weight_decay,
            layer_decay=args.layer_decay, warmup_steps=args.warmup_steps, warmup_ratio=args.warmup_ratio,
            label_smoothing=args.label_smoothing, mixed_precision=args.mixed_precision,
            gradient_checkpointing=args.gradient_checkpointing, eval_clips=args.eval_clips,
            eval_crops=args.eval_crops, logging_steps=args.logging_steps, seed=args.seed,
        )  # fmt: skip
    except ValueError as error:
        raise UsageError(str(error)) from None
    results = finetune_classifier(config)
    if results:
        print(json.dumps({k: v for k, v in results.items() if k.startswith("eval_")}, indent=2))
    print(f"saved the classifier and its processor to {args.output_dir}")
    return 0
