"""Scoring at scale: clips/s of ``viclip score`` over a clip list vs ``viclip embed`` of the same clips.

Both run in one process each (``--engine local``, the default on a small GPU-less machine), the same random
weights, the same synthetic H.264 videos; every clip has its own caption (the text side's worst case). Scoring
embeds each clip as embed does and adds the text tower over the distinct captions: the ratio shows what that
costs (target: close to 1.0x), and the text tower's seconds are printed on their own.

    python benchmarks/bench_score_vs_embed.py                     # B/16, 32 clips of 2 s at 640x360
    python benchmarks/bench_score_vs_embed.py --size tiny --num-videos 4 --seconds 1   # smoke run
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_engine_default import save_model, write_videos  # sibling scripts

from viclip.inference.dtype_choice import cpu_kind


def run_command(argv: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    job = subprocess.run(
        [sys.executable, "-m", "viclip_cli", *argv, "--quiet"], capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    if job.returncode != 0:
        raise SystemExit(f"viclip {argv[0]} failed:\n{job.stderr}")
    return seconds, job.stdout.strip()


def text_tower_seconds(model: Path, captions: list[str]) -> float:
    from viclip.scoring import Scorer

    start = time.perf_counter()
    Scorer(str(model)).text_features(captions)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", choices=["tiny", "b16", "l14"], default="b16")
    parser.add_argument("--num-videos", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args(argv)
    print(f"CPU: {cpu_kind().describe()}", flush=True)  # figures hold for this CPU kind only
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        write_videos(work / "videos", args.num_videos, args.seconds, (640, 360))
        save_model(work / "model", args.size)
        paths = sorted((work / "videos").glob("*.mp4"))
        captions = [f"a shape of colour {i} moves across clip number {i}" for i in range(len(paths))]
        clips = work / "clips.csv"
        clips.write_text("path,caption\n" + "".join(f"{p},{c}\n" for p, c in zip(paths, captions)))
        common = ["--model", str(work / "model"), "--engine", "local", "--batch-size", str(args.batch_size)]
        embed_sec, _ = run_command(
            ["embed", "--inputs", str(clips), "--output-dir", str(work / "emb"), *common]
        )
        score_sec, summary = run_command(["score", "--inputs", str(clips), *common])
        text_sec = text_tower_seconds(work / "model", captions)
    count = len(paths)
    print(f"{count} clips, {args.size}, each with its own caption; one process each (model load included)")
    print(f"  viclip embed: {embed_sec:6.1f} s  {count / embed_sec:6.2f} clips/s")
    print(
        f"  viclip score: {score_sec:6.1f} s  {count / score_sec:6.2f} clips/s  ({embed_sec / score_sec:.2f}x embed)"
    )
    print(f"  of which the text tower (load + {count} captions), measured alone: {text_sec:.1f} s")
    print(f"  score's summary: {summary.splitlines()[0]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
