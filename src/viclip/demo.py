"""`viclip demo`: the whole path end to end, on an embedded default with no download.

1. generate synthetic InternVid data (moving coloured shapes, captions that name the direction of motion);
2. train a small ViCLIP on the CPU for a few minutes (`viclip.training`);
3. save it as a Hub folder (model + processor) and reload it with `AutoModel` / `AutoProcessor`;
4. evaluate text-video retrieval and zero-shot classification on held-out videos, and the direction test
   (pick the caption among four that differ only in the direction of motion: only time tells them apart);
5. classify a sample clip with the `zero-shot-video-classification` pipeline;
6. print a short report (also written as JSON next to the plots).

With `--checkpoint` (or the `VICLIP_CHECKPOINT` environment variable) naming a released ViCLIP checkpoint, it
converts the real weights instead and runs the original demo: `example1.mp4` against its ten captions.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import torch

from .processing import VideoClip

# The embedded default: the built-in training config `synthetic_cpu` (a small ViCLIP trained from scratch on
# synthetic moving shapes in a few CPU minutes).
DEMO_CONFIG = "synthetic_cpu"
DEMO_TORCH_THREADS = 2
"""torch's threads during the demo, whatever the machine: a matrix product's sums are split per thread, so another
thread count trains another model over 600 steps (1, 2 and 4 threads give different weights after 5 steps; load
does not). Two threads give the README's numbers on every run (the same torch build and CPU kind)."""


@dataclass(frozen=True)
class HeldOutExample:
    """One annotated held-out clip of the synthetic data: the clip and what its caption says."""

    clip: VideoClip
    caption: str
    color: str
    shape: str
    direction: str


def read_held_out_clips(
    annotations: str | os.PathLike, video_root: str | os.PathLike
) -> list[HeldOutExample]:
    """The synthetic held-out rows joined to their videos (whole videos, read by seeking)."""
    from .data.annotations import parse_row
    from .data.synthetic import COLORS, DIRECTIONS, SHAPES
    from .data.video_locator import VideoLocator

    locator = VideoLocator(video_root)
    clips = []
    for line_number, line in enumerate(Path(annotations).read_text().splitlines(), start=1):
        if not line.strip():
            continue
        row = parse_row(json.loads(line))
        clip = locator.locate(row.youtube_id, row.start_sec, row.end_sec)
        if clip is None:
            raise FileNotFoundError(
                f"{annotations}:{line_number}: no video for {row.youtube_id!r} under {video_root}"
            )
        words = row.caption.split()
        color, shape, direction = words[1], words[2], words[-1]
        if color not in COLORS or shape not in SHAPES or direction not in DIRECTIONS:
            raise ValueError(f"{annotations}:{line_number}: not a synthetic caption: {row.caption!r}")
        clips.append(HeldOutExample(clip, row.caption, color, shape, direction))
    return clips


def direction_accuracy(encoder: Any, clips: list[HeldOutExample], video_embeds: torch.Tensor) -> float:
    """Percent of clips whose caption wins among the four captions that differ only in direction (chance 25)."""
    from .data.synthetic import DIRECTIONS, caption_for

    correct = 0
    for clip, video in zip(clips, video_embeds):
        options = [caption_for(clip.color, clip.shape, direction) for direction in DIRECTIONS]
        scores = encoder.encode_text(options) @ video
        correct += int(DIRECTIONS[int(scores.argmax())] == clip.direction)
    return 100.0 * correct / len(clips)


def run_synthetic_demo(
    output_dir: Path, max_steps: int | None = None, progress: bool = True
) -> dict[str, Any]:
    """Steps 1-6 of the module docstring; returns the report (also written to `output_dir/report.json`)."""
    from transformers import AutoModel, AutoProcessor, pipeline

    from .data import CaptionedVideos, LabelledVideo
    from .data.synthetic import DIRECTIONS, caption_for
    from .evaluation import evaluate_classification, evaluate_retrieval
    from .inference import VideoTextEmbedder
    from .training import TrainingConfig, train

    started = time.perf_counter()
    config = TrainingConfig.from_file(DEMO_CONFIG)
    overrides: dict[str, Any] = {
        "output_dir": str(output_dir / "run"),
        "progress": progress,
        "report_to": "none",
        "save_steps": 0,
        "eval_steps": 0,
    }
    if max_steps is not None:
        overrides.update(max_steps=max_steps, warmup_steps=min(config.num_warmup_steps, max_steps // 4))
    config = config.with_overrides(overrides)
    print(f"[1-2/6] synthetic data and training ({config.max_steps} steps) under {output_dir / 'run'}")
    result = train(config)
    train_seconds = time.perf_counter() - started
    folder = result.final_dir

    print(f"[3/6] reloading the saved Hub folder {folder} with AutoModel / AutoProcessor")
    model = AutoModel.from_pretrained(folder).eval()
    processor = AutoProcessor.from_pretrained(folder)
    encoder = VideoTextEmbedder(model, processor)

    print("[4/6] held-out evaluation: retrieval, zero-shot classification, direction test")
    data_dir = Path(config.train_annotations).parent
    clips = read_held_out_clips(data_dir / "held_out.jsonl", data_dir / "videos")
    items = [c.clip for c in clips]
    captions = [c.caption for c in clips]
    gallery = CaptionedVideos(items, captions, list(range(len(items))))
    retrieval = evaluate_retrieval(
        encoder, gallery, plot_path=output_dir / "retrieval_similarity.png", progress=progress
    )
    class_names = sorted({caption_for(c.color, c.shape, d) for c in clips for d in DIRECTIONS})
    classification = evaluate_classification(
        encoder,
        [LabelledVideo(item, c.caption) for item, c in zip(items, clips)],
        class_names=class_names,
        templates="single",
        plot_path=output_dir / "zero_shot_confusion.png",
        progress=progress,
    )
    video_embeds = encoder.encode_videos(items)
    direction = direction_accuracy(encoder, clips, video_embeds)

    print("[5/6] zero-shot-video-classification pipeline on a held-out clip")
    sample = clips[0]
    classify = pipeline("zero-shot-video-classification", model=model, processor=processor)
    labels = [caption_for(sample.color, sample.shape, d) for d in DIRECTIONS]
    predictions = classify(sample.clip, candidate_labels=labels, templates="single")

    report = {
        "hub_folder": str(folder),
        "train_steps": result.step,
        "train_seconds": round(train_seconds, 1),
        "final_train_loss": next((row["loss"] for row in reversed(result.history) if "loss" in row), None),
        "held_out_clips": len(clips),
        "t2v_R@1": retrieval["t2v_R@1"],
        "t2v_R@5": retrieval["t2v_R@5"],
        "v2t_R@1": retrieval["v2t_R@1"],
        "t2v_R@1_chance": 100.0 / len(clips),
        "zero_shot_top1": classification["top1"],
        "zero_shot_top5": classification["top5"],
        "zero_shot_classes": len(class_names),
        "direction_accuracy": direction,
        "direction_chance": 100.0 / len(DIRECTIONS),
        "sample_clip": {
            "path": sample.clip.path,
            "start_sec": sample.clip.start_sec,
            "end_sec": sample.clip.end_sec,
            "caption": sample.caption,
        },
        "sample_prediction": predictions,
        "plots": [retrieval.get("plot"), classification.get("plot")],
    }
    (output_dir / "report.json").write_text(json.dumps(report, indent=2))
    print("[6/6] report")
    print(format_synthetic_report(report))
    return report


def format_synthetic_report(report: dict[str, Any]) -> str:
    lines = [
        f"trained {report['train_steps']} steps in {report['train_seconds']:.0f} s (final loss "
        f"{report['final_train_loss']:.3f}); Hub folder: {report['hub_folder']}",
        f"held-out clips: {report['held_out_clips']}",
        f"  text->video R@1 {report['t2v_R@1']:.1f}%  R@5 {report['t2v_R@5']:.1f}%  "
        f"(chance R@1 {report['t2v_R@1_chance']:.1f}%);  video->text R@1 {report['v2t_R@1']:.1f}%",
        f"  zero-shot classification over {report['zero_shot_classes']} captions: top-1 "
        f"{report['zero_shot_top1']:.1f}%  top-5 {report['zero_shot_top5']:.1f}%",
        f"  direction test (4 captions differing only in direction): {report['direction_accuracy']:.1f}% "
        f"(chance {report['direction_chance']:.0f}%)",
        f"sample clip ({report['sample_clip']['caption']!r}):",
    ]
    lines += [f"  {p['score']:.3f}  {p['label']}" for p in report["sample_prediction"]]
    lines.append("plots: " + ", ".join(str(p) for p in report["plots"] if p))
    return "\n".join(lines)


def example_video_path() -> Path:
    """The original demo video, shipped with the package."""
    return Path(str(resources.files("viclip") / "assets" / "example1.mp4"))


def original_demo_probabilities(
    model: Any, processor: Any, video: str | os.PathLike | None = None
) -> torch.Tensor:
    """The original demo: `video` (default `example1.mp4`) with the demo's preprocessing (frames 0, s, 2s, ...;
    bilinear resize without antialias) against its ten captions; softmax(100 * cosine), shape (10,)."""
    from .hub.model_card import DEMO_CAPTIONS
    from .processing import ViCLIPVideoProcessor

    vision = model.config.vision_config
    demo_processor = ViCLIPVideoProcessor.for_demo(
        size={"height": vision.image_size, "width": vision.image_size}, num_frames=vision.num_frames
    )
    pixels = demo_processor(str(video or example_video_path()), return_tensors="pt")["pixel_values_videos"]
    text = processor(text=list(DEMO_CAPTIONS), return_tensors="pt")
    with torch.no_grad():
        out = model(input_ids=text["input_ids"], pixel_values_videos=pixels)
    return (100.0 * out.video_embeds @ out.text_embeds.t()).softmax(dim=-1)[0]


def run_original_demo(checkpoint: str | os.PathLike, output_dir: Path) -> list[tuple[int, float]]:
    """Convert a released checkpoint and run the original demo; returns the top-5 (caption index, probability)."""
    from transformers import AutoModel, AutoProcessor

    from .conversion import convert_checkpoint
    from .hub.model_card import DEMO_CAPTIONS

    folder = output_dir / "converted"
    print(f"[1/2] converting {checkpoint} into {folder}")
    convert_checkpoint(checkpoint, folder, force=True)
    model = AutoModel.from_pretrained(folder).eval()
    processor = AutoProcessor.from_pretrained(folder)
    print(f"[2/2] {example_video_path().name} against the demo's {len(DEMO_CAPTIONS)} captions")
    top = original_demo_probabilities(model, processor).topk(5)
    ranked = [(int(i), float(p)) for p, i in zip(top.values, top.indices)]
    for index, probability in ranked:
        print(f"  [{index}] {probability:.4f}  {DEMO_CAPTIONS[index]}")
    return ranked


def run_demo(
    output_dir: str | os.PathLike = "demo_output",
    *,
    steps: int | None = None,
    checkpoint: str | os.PathLike | None = None,
    progress: bool = True,
) -> dict[str, Any] | list[tuple[int, float]]:
    """The synthetic demo (`run_synthetic_demo`), or with `checkpoint` the original demo on converted real
    weights (`run_original_demo`)."""
    output_dir = Path(output_dir)
    if checkpoint is not None and not Path(checkpoint).is_file():
        raise FileNotFoundError(f"checkpoint {str(checkpoint)!r} does not exist")
    output_dir.mkdir(parents=True, exist_ok=True)
    if checkpoint is not None:
        return run_original_demo(checkpoint, output_dir)
    threads = torch.get_num_threads()
    torch.set_num_threads(DEMO_TORCH_THREADS)
    try:
        return run_synthetic_demo(output_dir, max_steps=steps, progress=progress)
    finally:
        torch.set_num_threads(threads)
