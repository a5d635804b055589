"""``ViCLIPReward`` forward + backward on one generated video: time and peak memory, with and without checkpointing.

One 16-frame 320x512 video in [0, 1] with ``requires_grad``, its prompt, random ViCLIP-L/14 weights (both protocols
pick 8 of the 16 frames). Each variant runs in its own process, so each peak is its own: on a GPU
``torch.cuda.max_memory_allocated``, on the CPU the process's peak resident memory minus its resident memory once
the model is loaded (what the pass itself adds: activations kept for the backward pass, the recomputation, the
gradients to the pixels).

    python benchmarks/bench_reward.py                    # CPU, fp32 and bf16 autocast, each with and without
    python benchmarks/bench_reward.py --device cuda      # the same on a GPU
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from bench_score_vbench import SMOKE_CONFIG  # a tiny model at 224 px, the same for both scripts

from viclip.inference.dtype_choice import cpu_kind

VARIANTS = {
    "fp32": {"autocast": None, "checkpointing": False},
    "fp32 + checkpointing": {"autocast": None, "checkpointing": True},
    "bf16 autocast": {"autocast": "bfloat16", "checkpointing": False},
    "bf16 autocast + checkpointing": {"autocast": "bfloat16", "checkpointing": True},
}


def _reset_peak_rss() -> None:
    """Linux: the peak resident memory (VmHWM) restarts from the current one (loading the model peaks too)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def _peak_rss_bytes() -> int:
    with open("/proc/self/status") as f:
        line = next(line for line in f if line.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024


def _current_rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def run_variant(folder: Path, variant: str, device: str, rounds: int) -> dict:
    """Forward + backward of one video in this process: median seconds and the pass's peak memory."""
    from viclip.scoring import ViCLIPReward

    settings = VARIANTS[variant]
    autocast = getattr(torch, settings["autocast"]) if settings["autocast"] else None
    reward = ViCLIPReward.from_pretrained(
        folder, autocast_dtype=autocast, gradient_checkpointing=settings["checkpointing"]
    ).to(device)
    prompt = ["a cat wearing sunglasses on a beach"]
    reward.text_features(prompt)  # cached, as in a training loop
    video = torch.rand(1, 16, 3, 320, 512, generator=torch.Generator().manual_seed(0)).to(device)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    baseline = _current_rss_bytes()
    _reset_peak_rss()
    seconds = []
    for _ in range(rounds):
        pixels = video.clone().requires_grad_(True)
        start = time.perf_counter()
        value = reward(pixels, prompt)
        value.sum().backward()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        seconds.append(time.perf_counter() - start)
        assert pixels.grad is not None and torch.isfinite(pixels.grad).all()
    if device.startswith("cuda"):
        peak = torch.cuda.max_memory_allocated()
    else:
        peak = _peak_rss_bytes() - baseline
    return {"variant": variant, "seconds": sorted(seconds)[len(seconds) // 2], "peak_bytes": peak}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--smoke", action="store_true", help="a tiny model: checks the script runs")
    parser.add_argument("--variant", choices=sorted(VARIANTS), help=argparse.SUPPRESS)  # one child process
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    print(f"CPU: {cpu_kind().describe()}", flush=True)  # figures hold for this CPU kind only
    if args.variant:
        print(json.dumps(run_variant(args.folder, args.variant, args.device, args.rounds)))
        return

    from viclip import ViCLIPConfig, ViCLIPModel, ViCLIPProcessor

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "viclip"
        torch.manual_seed(0)
        ViCLIPModel(ViCLIPConfig(**SMOKE_CONFIG) if args.smoke else ViCLIPConfig()).save_pretrained(folder)
        ViCLIPProcessor().save_pretrained(folder)
        results = []
        for variant in VARIANTS:
            command = [sys.executable, __file__, "--variant", variant, "--folder", str(folder)]
            command += ["--device", args.device, "--rounds", str(args.rounds)]
            output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            results.append(json.loads(output.strip().splitlines()[-1]))
    plain = results[0]
    print(
        f"ViCLIPReward forward + backward, one 16x3x320x512 video, {args.device} (peak: memory the pass adds)"
    )
    for result in results:
        print(
            f"  {result['variant']:<30} {result['seconds']:7.2f} s ({plain['seconds'] / result['seconds']:.2f}x fp32)"
            f"   peak {result['peak_bytes'] / 2**20:8.0f} MiB ({result['peak_bytes'] / plain['peak_bytes']:.2f}x fp32)"
        )


if __name__ == "__main__":
    main()
