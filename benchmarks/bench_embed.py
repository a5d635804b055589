"""``viclip embed`` on Ray Data (local, 2 workers: a decoding task and a model actor) against the in-process
folder embedding that ``viclip search`` did before (decode, then embed, batch after batch, one process).

Random weights at a preset size (B/16 by default), a folder of synthetic H.264 videos; both write nothing the
other reads. Prints clips/s of each and the ratio; Ray's start-up is timed apart. Also prints how much of the
time the model actors ran rather than waited for decoded clips (``EmbedResult.model_busy_fraction``): near 100%,
decoding keeps up with the model.

    python benchmarks/bench_embed.py                                   # B/16, 16 videos of 10 s at 640x360
    python benchmarks/bench_embed.py --size l14 --num-videos 8 --dtype bfloat16
    python benchmarks/bench_embed.py --size l14 --dtype bfloat16 --num-gpus 1 --num-cpus 16 --num-videos 512 \
        --batch-size 32 --optimize compile          # on a GPU machine: is decoding ever the bottleneck?
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from viclip.inference.dtype_choice import cpu_kind

PRESETS = {"b16": "viclip-b16", "l14": "viclip-l14"}


def write_videos(folder: Path, count: int, seconds: float, size: tuple[int, int]) -> None:
    from viclip.data.synthetic import write_video

    rng = np.random.default_rng(0)
    width, height = size
    for i in range(count):
        frames = []
        base = rng.integers(0, 255, 3)
        for t in range(int(seconds * 25)):
            frame = np.empty((height, width, 3), np.uint8)
            frame[:] = base
            x = (t * 7) % (width - 64)
            frame[100:164, x : x + 64] = 255 - base
            frames.append(frame)
        write_video(folder / f"video{i:03d}.mp4", frames, fps=25)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=list(PRESETS), default="b16")
    parser.add_argument("--num-videos", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument(
        "--num-cpus", type=int, default=2, help="CPUs of the local Ray instance and torch threads"
    )
    parser.add_argument("--num-gpus", type=int, default=0, help="model actors on GPUs (0: one CPU actor)")
    parser.add_argument("--optimize", choices=["none", "compile"], default="none")
    args = parser.parse_args(argv)
    print(f"CPU: {cpu_kind().describe()}", flush=True)  # figures hold for this CPU kind only
    device = "cuda" if args.num_gpus else "cpu"

    import ray

    from viclip import ViCLIPConfig, ViCLIPModel, ViCLIPProcessor
    from viclip.embedding import embed_videos
    from viclip.inference import VideoTextEmbedder
    from viclip.processing import VideoClip

    work = Path(tempfile.mkdtemp(prefix="bench-embed-"))
    (work / "videos").mkdir()
    write_videos(work / "videos", args.num_videos, args.seconds, (640, 360))
    torch.manual_seed(0)
    ViCLIPModel(ViCLIPConfig.from_preset(PRESETS[args.size])).save_pretrained(work / "model")
    ViCLIPProcessor().save_pretrained(work / "model")
    clips = sorted((work / "videos").glob("*.mp4"))
    print(
        f"{args.size} {args.dtype}, {len(clips)} videos of {args.seconds:g} s at 640x360, batch {args.batch_size}"
    )

    # Before: the folder search's in-process loop (decode a batch, embed it, repeat).
    torch.set_num_threads(args.num_cpus)
    embedder = VideoTextEmbedder.from_pretrained(
        work / "model", device=device, dtype=getattr(torch, args.dtype)
    )
    start = time.perf_counter()
    for i in range(0, len(clips), args.batch_size):
        embedder.encode_videos([VideoClip(str(p)) for p in clips[i : i + args.batch_size]])
    in_process = time.perf_counter() - start
    del embedder

    start = time.perf_counter()
    ray.init(
        num_cpus=args.num_cpus, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING
    )
    ray_start = time.perf_counter() - start
    start = time.perf_counter()
    result = embed_videos(
        work / "videos",
        str(work / "model"),
        work / "emb",
        engine="ray",
        dtype=args.dtype,
        batch_size=args.batch_size,
        num_gpus=args.num_gpus,
        optimize=args.optimize,
        progress=False,
    )
    with_ray = time.perf_counter() - start
    assert result.num_embedded == len(clips), result.summary()
    ray.shutdown()

    n = len(clips)
    print("\n| method | s | clips/s | ratio |")
    print("|---|---|---|---|")
    print(f"| in-process folder embedding (before) | {in_process:.1f} | {n / in_process:.2f} | 1.00x |")
    print(
        f"| viclip embed, local Ray, {args.num_cpus} CPUs, {args.num_gpus} GPUs | {with_ray:.1f} | {n / with_ray:.2f} | "
        f"{in_process / with_ray:.2f}x |"
    )
    print(f"(Ray start-up, not included: {ray_start:.1f} s)")
    print(
        f"model actors busy {result.model_busy_fraction:.0%} of their time (the rest: waiting for decoded clips)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
