"""Fine-tune ViCLIPForVideoClassification on synthetic action recognition (the direction of motion), on CPU.

The label of a clip is the direction a shape moves in (left, right, up, down), so a single frame
cannot tell it: the classifier has to use time. The script writes the videos and the
``path,start_sec,end_sec,label`` lists, runs ``viclip finetune-classifier`` (Trainer, layer-wise lr decay,
label smoothing, drop-path, multi-view testing), then classifies a held-out clip with the
``video-classification`` pipeline.

    python examples/finetune_video_classification.py --out runs/synthetic-actions
    python examples/finetune_video_classification.py --out runs/k400 --model path/to/viclip -- --epochs 30

Arguments after ``--`` go to ``viclip finetune-classifier`` unchanged (they override the defaults below).
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from transformers import pipeline

from viclip.classification import write_synthetic_action_dataset
from viclip_cli import main as viclip_main


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, list[str]]:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="folder for the data and the fine-tuned model")
    parser.add_argument("--model", help="a ViCLIP folder to start from (default: a small random model)")
    parser.add_argument("--num-videos", type=int, default=450, help="videos of 4 clips each")
    parser.add_argument("--held-out-videos", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv), extra


def main(argv: list[str] | None = None) -> int:
    args, extra = parse_args(argv)
    out = Path(args.out)
    lists = write_synthetic_action_dataset(
        out / "data", num_videos=args.num_videos, held_out_videos=args.held_out_videos, seed=args.seed
    )
    print(f"{lists.num_train} training clips, {lists.num_eval} held-out clips, labels {lists.labels}")

    finetune_args = [
        "--train", str(lists.train), "--eval", str(lists.eval), "--labels", ",".join(lists.labels),
        "--output-dir", str(out / "model"), "--no-flip",  # a mirror turns "left" into "right"
        "--epochs", "6", "--per-device-batch-size", "16", "--learning-rate", "1e-3", "--layer-decay", "1.0" if args.model is None else "0.75",
        "--label-smoothing", "0.1", "--drop-path-rate", "0.1", "--eval-clips", "2", "--eval-crops", "1",
        "--seed", str(args.seed), "--logging-steps", "20",
    ]  # fmt: skip
    if args.model:
        finetune_args += ["--init-from", args.model]
    code = viclip_main(["finetune-classifier", *finetune_args, *extra])
    if code:
        return code

    with open(lists.eval, newline="") as f:
        row = next(csv.DictReader(f))
    video = {
        "path": str(lists.eval.parent / row["path"]),
        "start_sec": float(row["start_sec"]),
        "end_sec": float(row["end_sec"]),
    }
    classify = pipeline("video-classification", model=str(out / "model"))
    print(f"held-out clip moving {row['label']!r}: {classify(video, top_k=2)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
