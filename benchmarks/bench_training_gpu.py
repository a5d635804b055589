"""Training throughput of ViCLIP on one CUDA GPU (bf16 autocast, sdpa attention, random inputs).

1. A B/16-size model, frozen text tower: token masking 0.9 (the ViCLIP recipe) against 0.0
   (clips/s and peak memory over a few timed steps after warm-up); the ratio is printed.
2. One full L/14 training step at batch 32 with gradient checkpointing (time, peak memory).

    python benchmarks/bench_training_gpu.py --out bench_training.json     # CUDA, < 5 minutes on an H100
    python benchmarks/bench_training_gpu.py --smoke --out smoke.json      # tiny sizes, runs on CPU
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import torch

from viclip import ViCLIPConfig, ViCLIPModel
from viclip.training import ContrastiveTrainingModule, build_optimizer, gathered_contrastive_loss
from viclip.training.building import prepare_model_for_training
from viclip.training.config import TrainingConfig

TINY = {
    "vision_config": {"hidden_size": 64, "intermediate_size": 256, "num_hidden_layers": 2, "num_attention_heads": 4,
                      "image_size": 32, "patch_size": 8},
    "text_config": {"hidden_size": 48, "intermediate_size": 192, "num_hidden_layers": 2, "num_attention_heads": 4},
    "projection_dim": 32,
}  # fmt: skip


def make_model(preset: str, smoke: bool, device: torch.device, mask_ratio: float, checkpointing: bool):
    config = ViCLIPConfig(**TINY) if smoke else ViCLIPConfig.from_preset(preset)
    # The run's regularisation is set when the model is built.
    config.vision_config.update({"mask_ratio": mask_ratio, "drop_path_rate": 0.1})
    torch.manual_seed(0)
    model = ViCLIPModel(config)
    model.set_attn_implementation("sdpa")
    settings = TrainingConfig(mask_ratio=mask_ratio, drop_path_rate=0.1, freeze_text=True,
                              gradient_checkpointing=checkpointing)  # fmt: skip
    return prepare_model_for_training(model, settings).to(device)


def random_batch(model: ViCLIPModel, batch: int, device: torch.device) -> dict[str, torch.Tensor]:
    vision = model.config.vision_config
    size = vision.image_size
    ids = torch.randint(0, 49000, (batch, 32), device=device)
    ids[:, -1] = 49407  # the end-of-text token (largest id) where the text is pooled
    return {
        "pixel_values_videos": torch.randn(batch, vision.num_frames, 3, size, size, device=device),
        "input_ids": ids,
        "attention_mask": torch.ones(batch, 32, dtype=torch.long, device=device),
    }


def measure(model, batch_size: int, steps: int, warmup: int, device: torch.device) -> dict[str, float]:
    """Mean seconds per optimiser step and peak memory over `steps` steps after `warmup` steps."""
    module = ContrastiveTrainingModule(model)
    optimizer = build_optimizer(module)
    batch = random_batch(model, batch_size, device)
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else nullcontext()

    def step():
        with autocast:
            loss, _ = gathered_contrastive_loss(*module(**batch))
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    for _ in range(warmup):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = (time.perf_counter() - start) / steps
    peak = torch.cuda.max_memory_allocated() / 2**30 if device.type == "cuda" else float("nan")
    return {
        "batch": batch_size,
        "s_per_step": seconds,
        "clips_per_s": batch_size / seconds,
        "peak_mem_gib": peak,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="JSON file for the results")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, CPU allowed (a test of the script)")
    parser.add_argument("--batch", type=int, default=64, help="B/16 batch per step")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args(argv)
    cuda = torch.cuda.is_available()
    if not cuda and not args.smoke:
        print("bench_training_gpu: CUDA is required (use --smoke for the CPU check)", file=sys.stderr)
        return 2
    device = torch.device("cuda" if cuda else "cpu")
    if args.smoke:
        args.batch, args.steps, args.warmup = 4, 2, 1
    results: dict[str, object] = {"device": torch.cuda.get_device_name() if cuda else "cpu", "smoke": args.smoke,
                                  "dtype": "bf16" if cuda else "fp32", "attention": "sdpa"}  # fmt: skip
    rows = []
    for mask_ratio in (0.0, 0.9):
        model = make_model("viclip-b16", args.smoke, device, mask_ratio, checkpointing=False)
        row = {
            "case": f"B/16 mask {mask_ratio}",
            **measure(model, args.batch, args.steps, args.warmup, device),
        }
        rows.append(row)
        del model
        if cuda:
            torch.cuda.empty_cache()
    speedup = rows[1]["clips_per_s"] / rows[0]["clips_per_s"]
    model = make_model("viclip-l14", args.smoke, device, 0.9, checkpointing=True)
    l14 = measure(model, 4 if args.smoke else 32, 1, 1, device)
    rows.append({"case": "L/14 mask 0.9 + grad ckpt, one step", **l14})
    results.update(rows=rows, masking_speedup=speedup)

    print(f"{'case':<38} {'batch':>5} {'s/step':>8} {'clips/s':>9} {'peak GiB':>9}")
    for row in rows:
        print(f"{row['case']:<38} {row['batch']:>5} {row['s_per_step']:>8.3f} {row['clips_per_s']:>9.1f} "
              f"{row['peak_mem_gib']:>9.2f}")  # fmt: skip
    print(f"masking 0.9 vs 0.0 (B/16): {speedup:.2f}x clips/s")
    Path(args.out).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
