"""Throughput of ``ViCLIPModel.get_video_features`` (videos/s): eager vs sdpa attention, fp32 vs bf16.

Random weights at the real B/16 and L/14 shapes (8 frames, 224 px); the baseline of each size and
batch size is eager fp32 in the same run, and every row prints its speed-up over it.

    python benchmarks/bench_inference.py                      # CUDA if present, else CPU
    python benchmarks/bench_inference.py --device cpu --sizes b16 --batch-sizes 1 --iters 2
    python benchmarks/bench_inference.py --markdown           # a table for the README
    python benchmarks/bench_inference.py --device cuda --sizes l14 --dtypes bf16 --attn sdpa \
        --batch-sizes 8 32 64 128 --compile --peak-tflops 989      # model FLOPs utilisation on an H100/H200

MFU counts the forward's matmul FLOPs (``video_flops``: 1.65 TFLOP per 8x224 video for L/14) against
``--peak-tflops`` (dense bf16: 989 for H100/H200 SXM). The CPU comparison with the original code is
``bench_inference_cpu.py``.
"""

from __future__ import annotations

import argparse
import platform
import time

import torch

from viclip import ViCLIPConfig, ViCLIPModel
from viclip.inference.dtype_choice import cpu_kind

SIZES = {"b16": "viclip-b16", "l14": "viclip-l14"}
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}


def video_flops(config) -> float:
    """Forward FLOPs of the video tower for one clip (matmuls and attention; 2 FLOPs per multiply-add)."""
    vision = config.vision_config
    patches = (vision.image_size // vision.patch_size) ** 2
    tokens = vision.num_frames * patches + 1
    d, mlp = vision.hidden_size, vision.intermediate_size
    per_layer = 2 * tokens * (4 * d * d + 2 * d * mlp) + 4 * tokens * tokens * d
    patch_embedding = 2 * vision.num_frames * patches * 3 * vision.patch_size**2 * d
    return vision.num_hidden_layers * per_layer + patch_embedding


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@torch.inference_mode()
def measure(
    model: ViCLIPModel, batch_size: int, device: torch.device, dtype: torch.dtype, warmup: int, iters: int
) -> float:
    """Videos per second of ``get_video_features`` on random pixels."""
    vision = model.config.vision_config
    pixels = torch.randn(
        batch_size, vision.num_frames, 3, vision.image_size, vision.image_size, device=device, dtype=dtype
    )
    for _ in range(warmup):
        model.get_video_features(pixel_values_videos=pixels)
    _sync(device)
    start = time.perf_counter()
    for _ in range(iters):
        model.get_video_features(pixel_values_videos=pixels)
    _sync(device)
    return batch_size * iters / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: cuda if available)")
    parser.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[1, 8])
    parser.add_argument("--dtypes", nargs="+", default=list(DTYPES), choices=list(DTYPES))
    parser.add_argument("--attn", nargs="+", default=["eager", "sdpa"], choices=["eager", "sdpa"])
    parser.add_argument(
        "--warmup", type=int, default=None, help="warm-up calls (default: 3 on GPU, 1 on CPU)"
    )
    parser.add_argument("--iters", type=int, default=None, help="timed calls (default: 20 on GPU, 2 on CPU)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--markdown", action="store_true", help="print the table as markdown")
    parser.add_argument(
        "--compile", action="store_true", help="torch.compile the video tower (optimize='compile')"
    )
    parser.add_argument(
        "--peak-tflops", type=float, default=None, help="the device's peak, for an MFU column"
    )
    args = parser.parse_args(argv)
    print(f"CPU: {cpu_kind().describe()}", flush=True)  # figures hold for this CPU kind only

    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if args.threads:
        torch.set_num_threads(args.threads)
    warmup = args.warmup if args.warmup is not None else (3 if device.type == "cuda" else 1)
    iters = args.iters if args.iters is not None else (20 if device.type == "cuda" else 2)
    hardware = (
        torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else f"{platform.processor() or 'CPU'}, {torch.get_num_threads()} threads"
    )
    print(
        f"device: {device} ({hardware}), torch {torch.__version__}, warmup {warmup}, iters {iters}",
        flush=True,
    )

    rows = []
    for size in args.sizes:
        torch.manual_seed(0)
        model = ViCLIPModel(ViCLIPConfig.from_preset(SIZES[size])).eval().to(device)
        flops = video_flops(model.config)
        for dtype_name in args.dtypes:
            model.to(DTYPES[dtype_name])
            if args.compile:
                from viclip.inference import optimize_for_inference

                torch._dynamo.reset()
                optimize_for_inference(model, "compile")
            for attn in args.attn:
                model.set_attn_implementation(attn)
                for batch_size in args.batch_sizes:
                    try:
                        speed = measure(model, batch_size, device, DTYPES[dtype_name], warmup, iters)
                    except torch.OutOfMemoryError:
                        speed = float("nan")
                        if device.type == "cuda":
                            torch.cuda.empty_cache()
                    rows.append(
                        {
                            "size": size,
                            "dtype": dtype_name,
                            "attn": attn,
                            "batch": batch_size,
                            "videos/s": speed,
                            "tflops": speed * flops / 1e12,
                        }
                    )
                    print(
                        f"  {size} {dtype_name} {attn:5s} batch {batch_size}: {speed:8.3g} videos/s",
                        flush=True,
                    )
        del model
        if device.type == "cuda":
            torch.cuda.empty_cache()

    baselines = {
        (r["size"], r["batch"]): r["videos/s"] for r in rows if r["dtype"] == "fp32" and r["attn"] == "eager"
    }
    header = ["model", "dtype", "attention", "batch", "videos/s", "vs eager fp32", "TFLOP/s"]
    if args.peak_tflops:
        header.append("MFU")
    lines = []
    for r in rows:
        base = baselines.get((r["size"], r["batch"]))
        ratio = f"{r['videos/s'] / base:.2f}x" if base else "n/a"
        lines.append(
            [
                f"ViCLIP-{r['size'].upper()}",
                r["dtype"],
                r["attn"],
                str(r["batch"]),
                f"{r['videos/s']:.3g}",
                ratio,
                f"{r['tflops']:.3g}",
                *([f"{100 * r['tflops'] / args.peak_tflops:.1f}%"] if args.peak_tflops else []),
            ]
        )
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for line in lines:
            print("| " + " | ".join(line) + " |")
    else:
        widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
        print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
        for line in lines:
            print("  ".join(c.ljust(w) for c, w in zip(line, widths)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
