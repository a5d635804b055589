"""Is ``viclip embed``'s default engine ever the slow choice? The same clips through the default (``--engine
auto``), ``--engine local`` and ``--engine ray``, each a fresh ``viclip embed`` process into a fresh folder (as a
user runs it: the model load and Ray's start-up count), best of ``--repeats``.

Prints clips/s of each, the engine the default picked (its summary line), and the ratio default / best of the two
(target >= 0.95: the default is never the slow choice). Random weights, synthetic H.264 videos.

    python benchmarks/bench_engine_default.py                          # B/16, 64 videos of 4 s at 640x360
    python benchmarks/bench_engine_default.py --size tiny --num-videos 4 --seconds 1 --repeats 1   # smoke run
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from viclip.inference.dtype_choice import cpu_kind

ENGINES = ("default", "local", "ray")


def write_videos(folder: Path, count: int, seconds: float, size: tuple[int, int]) -> None:
    from viclip.data.synthetic import write_video

    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    width, height = size
    for i in range(count):
        base = rng.integers(0, 255, 3)
        frames = []
        for t in range(max(1, int(seconds * 25))):
            frame = np.empty((height, width, 3), np.uint8)
            frame[:] = base
            x = (t * 7) % (width - 64)
            frame[height // 4 : height // 4 + 64, x : x + 64] = 255 - base
            frames.append(frame)
        write_video(folder / f"video{i:04d}.mp4", frames, fps=25)


def save_model(folder: Path, size: str) -> None:
    import torch

    from viclip import ViCLIPConfig, ViCLIPModel, ViCLIPProcessor

    if size == "tiny":
        from bench_embed_load import save_tiny_model  # a sibling script: the tests' tiny model

        save_tiny_model(folder)
        return
    torch.manual_seed(0)
    config = ViCLIPConfig.from_preset({"b16": "viclip-b16", "l14": "viclip-l14"}[size])
    ViCLIPModel(config).eval().save_pretrained(folder)
    ViCLIPProcessor().save_pretrained(folder)


def embed_once(videos: Path, model: Path, output: Path, engine: str, batch_size: int) -> tuple[float, str]:
    """Seconds of one ``viclip embed`` process, and its summary line."""
    argv = [sys.executable, "-m", "viclip_cli", "embed", "--inputs", str(videos), "--model", str(model)]
    argv += ["--output-dir", str(output), "--batch-size", str(batch_size), "--quiet"]
    if engine != "default":
        argv += ["--engine", engine]
    start = time.perf_counter()
    job = subprocess.run(argv, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if job.returncode != 0:
        raise SystemExit(f"viclip embed --engine {engine} failed:\n{job.stderr}")
    return seconds, job.stdout.strip().splitlines()[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=["tiny", "b16", "l14"], default="b16")
    parser.add_argument("--num-videos", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2, help="runs of each engine; the best is kept")
    args = parser.parse_args(argv)
    print(f"CPU: {cpu_kind().describe()}", flush=True)  # figures hold for this CPU kind only

    work = Path(tempfile.mkdtemp(prefix="bench-engine-default-"))
    try:
        return run(work, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(work: Path, args: argparse.Namespace) -> int:
    write_videos(work / "videos", args.num_videos, args.seconds, (640, 360))
    save_model(work / "model", args.size)
    print(f"{args.size}, {args.num_videos} videos of {args.seconds:g} s at 640x360, batch {args.batch_size}")

    best: dict[str, float] = {}
    summaries: dict[str, str] = {}
    for repeat in range(args.repeats):
        for engine in ENGINES:  # interleaved, so that a change in the machine's load touches every engine
            output = work / f"emb-{engine}-{repeat}"
            seconds, summaries[engine] = embed_once(
                work / "videos", work / "model", output, engine, args.batch_size
            )
            best[engine] = min(best.get(engine, float("inf")), seconds)

    n = args.num_videos
    print("\n| engine | s | clips/s |")
    print("|---|---|---|")
    for engine in ENGINES:
        print(
            f"| {'default (auto)' if engine == 'default' else engine} | {best[engine]:.1f} | {n / best[engine]:.2f} |"
        )
    fastest = min(best["local"], best["ray"])
    print(f"\ndefault picked: {summaries['default'].split('; ')[-1]}")
    print(f"default / best of local and ray: {fastest / best['default']:.2f}x (target >= 0.95)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
