"""End-to-end `viclip train` from prepared shards on one GPU: clips/s and MFU against the same step on random inputs.

For B/16 and L/14 with the recipe (bf16 autocast, token masking 0.9, frozen text tower, sdpa):

1. the largest per-GPU batch that fits (doubling from ``--min-batch`` up to ``--max-batch`` on random inputs);
2. the training step on random inputs at that batch (no data at all): clips/s;
3. ``viclip.training.train`` (the function) with ``train_shards`` (``load_prepared``, ``--workers`` DataLoader workers) at that
   batch: clips/s as its log reports them, after ``--warmup`` steps;
4. model FLOPs utilisation: FLOPs per clip (counted by ``torch.utils.flop_counter`` on one forward+backward)
   x clips/s / ``--peak-tflops`` (989 dense bf16 for an H100/H200 SXM), and the data cost
   ``1 - shards clips/s / random clips/s`` (target < 10%).

Shards: ``--shards DIR`` (a `viclip prepare` folder with 8-frame clips), or written first (synthetic 1280x720 videos,
``--clips`` rows, prepared on a local Ray instance with every core).

    python benchmarks/bench_train_from_shards_gpu.py --out train_from_shards.json       # CUDA
    python benchmarks/bench_train_from_shards_gpu.py --smoke --out smoke.json            # tiny sizes, CPU

Status: written and run only with ``--smoke`` on CPU; not yet run on a GPU.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from bench_training_gpu import make_model, measure, random_batch

from viclip.training import ContrastiveTrainingModule, gathered_contrastive_loss, train
from viclip.training.config import TrainingConfig

PRESETS = {"B/16": "viclip-b16", "L/14": "viclip-l14"}


def write_shards(folder: Path, clips: int, smoke: bool) -> Path:
    """Synthetic source videos and ``clips`` rows over them, prepared into ``folder`` (local Ray, all cores)."""
    from viclip.data import generate_synthetic_internvid, prepare_internvid
    from viclip.data.annotations import format_timestamp

    seconds = 4.0 if smoke else 60.0
    source = generate_synthetic_internvid(
        folder / "source", num_videos=2 if smoke else 4, clips_per_video=1, seconds=seconds,
        size=64 if smoke else (1280, 720), fps=8 if smoke else 25, seed=0, progress=False,
    )  # fmt: skip
    ids = sorted({json.loads(line)["YoutubeID"] for line in source.annotations.read_text().splitlines()})
    rng = np.random.default_rng(0)
    rows = []
    for _ in range(clips):
        duration = float(rng.uniform(1, 3) if smoke else rng.uniform(2, 8))
        start = float(rng.uniform(0, seconds - duration - 0.5))
        rows.append({"YoutubeID": str(rng.choice(ids)), "Start_timestamp": format_timestamp(start),
                     "End_timestamp": format_timestamp(start + duration), "Caption": "a shape moves"})  # fmt: skip
    annotations = folder / "rows.jsonl"
    annotations.write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = prepare_internvid(
        folder / "prepared", video_root=source.video_dir, data_files=annotations,
        short_side=32 if smoke else 256, rows_per_shard=max(1, clips // 64), progress=False,
    )  # fmt: skip
    print(f"prepared: {report.summary()}")
    return folder / "prepared"


def flops_per_clip(model, device: torch.device) -> float:
    """Training FLOPs (forward + backward) of one clip, counted on a batch of 2."""
    from torch.utils.flop_counter import FlopCounterMode

    module = ContrastiveTrainingModule(model)
    batch = random_batch(model, 2, device)
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else nullcontext()
    with FlopCounterMode(display=False) as counter:
        with autocast:
            loss, _ = gathered_contrastive_loss(*module(**batch))
        loss.backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops() / 2


def largest_batch(preset: str, smoke: bool, device: torch.device, low: int, high: int) -> int:
    """The largest power-of-two multiple of ``low`` up to ``high`` whose training step fits in memory."""
    best, batch = None, low
    while batch <= high:
        model = make_model(preset, smoke, device, 0.9, checkpointing=False)
        try:
            measure(model, batch, 1, 1, device)
            best = batch
        except torch.OutOfMemoryError:
            break
        finally:
            del model
            if device.type == "cuda":
                torch.cuda.empty_cache()
        batch *= 2
    if best is None:
        raise RuntimeError(f"{preset}: not even a batch of {low} fits")
    return best


def shards_rate(preset, smoke, device, shards: Path, batch: int, args, work: Path) -> float:
    """Clips/s of `viclip.training.train` reading ``shards``, as its log reports them after the warm-up."""
    model = make_model(preset, smoke, device, 0.9, checkpointing=False)
    config = TrainingConfig(
        output_dir=str(work / f"run-{preset}"), train_shards=str(shards),
        per_device_batch_size=batch, max_steps=args.warmup + args.steps, mask_ratio=0.9,
        freeze_text=True, gradient_checkpointing=False, attn_implementation="sdpa",
        mixed_precision="bf16" if device.type == "cuda" else "no", num_workers=args.workers,
        shuffle_buffer=256, save_steps=0, logging_steps=1, report_to="none", progress=False, warmup_steps=1,
    )  # fmt: skip
    result = train(config, model=model)
    rates = [row["clips_per_s"] for row in result.history if "clips_per_s" in row][args.warmup :]
    return float(np.mean(rates))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="JSON file for the results")
    parser.add_argument("--smoke", action="store_true", help="tiny model and shards, CPU allowed")
    parser.add_argument("--shards", default=None, help="a prepared folder (default: write one)")
    parser.add_argument("--clips", type=int, default=4096, help="rows to prepare when writing the shards")
    parser.add_argument("--workers", type=int, default=14, help="DataLoader workers of the training run")
    parser.add_argument("--min-batch", type=int, default=32)
    parser.add_argument("--max-batch", type=int, default=1024)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--peak-tflops", type=float, default=989.0, help="dense bf16 peak of the GPU")
    args = parser.parse_args(argv)
    cuda = torch.cuda.is_available()
    if not cuda and not args.smoke:
        print(
            "bench_train_from_shards_gpu: CUDA is required (use --smoke for the CPU check)", file=sys.stderr
        )
        return 2
    if args.smoke:
        args.clips, args.workers, args.min_batch, args.max_batch, args.steps, args.warmup = 16, 0, 4, 4, 2, 1
    device = torch.device("cuda" if cuda else "cpu")
    work = Path(tempfile.mkdtemp(prefix="bench_train_from_shards_"))
    shards = Path(args.shards) if args.shards else write_shards(work, args.clips, args.smoke)

    rows = []
    for name, preset in PRESETS.items():
        batch = largest_batch(preset, args.smoke, device, args.min_batch, args.max_batch)
        model = make_model(preset, args.smoke, device, 0.9, checkpointing=False)
        flops = flops_per_clip(model, device)
        random_rate = measure(model, batch, args.steps, args.warmup, device)["clips_per_s"]
        del model
        if cuda:
            torch.cuda.empty_cache()
        data_rate = shards_rate(preset, args.smoke, device, shards, batch, args, work)
        rows.append({
            "model": name, "batch": batch, "gflop_per_clip": flops / 1e9,
            "random_clips_per_s": random_rate, "shards_clips_per_s": data_rate,
            "random_mfu": flops * random_rate / (args.peak_tflops * 1e12),
            "shards_mfu": flops * data_rate / (args.peak_tflops * 1e12),
            "data_cost": 1 - data_rate / random_rate,
        })  # fmt: skip
    results = {
        "device": torch.cuda.get_device_name() if cuda else "cpu",
        "smoke": args.smoke,
        "recipe": "bf16 autocast, mask 0.9, frozen text, sdpa" if cuda else "fp32 (CPU smoke)",
        "peak_tflops": args.peak_tflops,
        "workers": args.workers,
        "rows": rows,
    }
    print(
        f"{'model':<6} {'batch':>5} {'GFLOP/clip':>10} {'random/s':>9} {'shards/s':>9} {'MFU':>6} {'data':>6}"
    )
    for r in rows:
        print(f"{r['model']:<6} {r['batch']:>5} {r['gflop_per_clip']:>10.3g} {r['random_clips_per_s']:>9.1f} "
              f"{r['shards_clips_per_s']:>9.1f} {r['shards_mfu']:>6.1%} {r['data_cost']:>6.1%}")  # fmt: skip
    Path(args.out).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
