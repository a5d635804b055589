"""Evaluate a ViCLIP trained on synthetic moving shapes (``viclip train --config synthetic_cpu``).

Prints text-to-video / video-to-text retrieval over the held-out clips and the *direction test*: for every
held-out clip, the model must pick its caption among the four captions that differ only in the direction of
motion ("a red circle moves to the left / right / up / down"); chance is 25%. Only the frame order tells the
directions apart, so this measures the use of time.

    python examples/eval_synthetic_retrieval.py runs/synthetic_cpu/final runs/synthetic_cpu/synthetic-data
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from viclip.data import CaptionedVideos
from viclip.demo import direction_accuracy, read_held_out_clips
from viclip.evaluation import evaluate_retrieval
from viclip.inference import VideoTextEmbedder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="trained model folder (output_dir/final)")
    parser.add_argument("data", help="synthetic data folder (with held_out.jsonl and videos/)")
    parser.add_argument("--output", help="write the metrics as JSON here")
    args = parser.parse_args(argv)

    encoder = VideoTextEmbedder.from_pretrained(args.model)
    clips = read_held_out_clips(Path(args.data) / "held_out.jsonl", Path(args.data) / "videos")
    items = [c.clip for c in clips]
    gallery = CaptionedVideos(items, [c.caption for c in clips], list(range(len(items))))
    metrics = evaluate_retrieval(encoder, gallery, progress=False)
    metrics["direction_accuracy"] = direction_accuracy(encoder, clips, encoder.encode_videos(items))
    metrics["t2v_R@1_chance"] = 100.0 / len(clips)
    print(json.dumps(metrics, indent=2))
    if args.output:
        Path(args.output).write_text(json.dumps(metrics, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
