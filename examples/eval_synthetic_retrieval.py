"""Evaluate a ViCLIP trained on synthetic moving shapes (``viclip train --config configs/synthetic_cpu.yaml``).

Prints text-to-video R@1/5/10 over the held-out clips and the *direction test*: for every held-out clip,
the model must pick its caption among the four captions that differ only in the direction of motion
("a red circle moves to the left / right / up / down"); chance is 25%. Only the frame order tells
the directions apart, so this measures the use of time.

    python examples/eval_synthetic_retrieval.py runs/synthetic_cpu/final runs/synthetic_cpu/synthetic-data
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import torch

from viclip import ViCLIPModel, ViCLIPProcessor
from viclip.data import caption_for, load_internvid
from viclip.data.synthetic import DIRECTIONS
from viclip.training.evaluation import recall_at_k

_CAPTION = re.compile(r"^a (\w+) (\w+) moves (?:to the )?(\w+)$")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="trained model folder (output_dir/final)")
    parser.add_argument("data", help="synthetic data folder (with held_out.jsonl and videos/)")
    parser.add_argument("--out", help="write the metrics as JSON here")
    args = parser.parse_args(argv)
    model = ViCLIPModel.from_pretrained(args.model).eval()
    processor = ViCLIPProcessor.from_pretrained(args.model)
    vision = model.config.vision_config
    examples = list(
        load_internvid(
            data_files=str(Path(args.data) / "held_out.jsonl"), video_root=str(Path(args.data) / "videos"),
            training=False, processor=processor, num_frames=vision.num_frames, image_size=vision.image_size,
            num_shards=1,
        )
    )  # fmt: skip
    with torch.no_grad():
        videos = torch.stack([torch.as_tensor(e["pixel_values_videos"]) for e in examples])
        video = torch.nn.functional.normalize(
            model.get_video_features(pixel_values_videos=videos).pooler_output, dim=-1
        )

        def embed(texts: list[str]) -> torch.Tensor:
            tokens = processor(text=texts, return_tensors="pt", padding=True)
            out = model.get_text_features(
                input_ids=tokens["input_ids"], attention_mask=tokens["attention_mask"]
            )
            return torch.nn.functional.normalize(out.pooler_output, dim=-1)

        captions = [e["caption"] for e in examples]
        metrics = {
            k: v for k, v in recall_at_k(embed(captions) @ video.t()).items() if k.startswith("t2v_R@")
        }
        correct = 0
        for i, caption in enumerate(captions):
            color, shape, direction = _CAPTION.match(caption).groups()
            options = [caption_for(color, shape, d) for d in DIRECTIONS]
            scores = embed(options) @ video[i]
            correct += int(DIRECTIONS[int(scores.argmax())] == direction)
    metrics["direction_accuracy"] = 100.0 * correct / len(examples)
    metrics["num_clips"] = len(examples)
    metrics["t2v_R@1_chance"] = 100.0 / len(examples)
    print(json.dumps(metrics, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(metrics, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
