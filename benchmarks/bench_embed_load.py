"""Load: thousands of tiny videos through ``viclip embed`` on local Ray. Does the driver's memory grow with the
number of files?

For each N (default 500 and 2,000) the script writes N tiny H.264 videos (PyAV, 8 frames of 32x32, each its own
colour), saves a tiny random ViCLIP (nothing is downloaded), runs ``viclip embed --engine ray`` over the folder in
a subprocess, checks that every file was embedded exactly once and that nothing failed, and reads the driver's
peak resident memory (``getrusage(RUSAGE_SELF).ru_maxrss`` of that process at its exit: the driver alone, not
Ray's raylet or workers) and its resident memory at the end. It prints both for each N, their ratios and the
growth per extra file.

    python benchmarks/bench_embed_load.py                      # N = 500 and 2000 (minutes: use an idle machine)
    python benchmarks/bench_embed_load.py --counts 20 50       # a smoke run
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from viclip.inference.dtype_choice import cpu_kind

# `viclip embed` in a subprocess that writes its own peak memory and its memory at the end (KiB, Linux) to argv[1]
# before it exits: the peak may be start-up's (torch, Ray, the model), what is held at the end grows with any
# per-file state the driver keeps.
DRIVER = """
import json, resource, sys
from viclip_cli import main
code = main(sys.argv[2:])
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
with open(sys.argv[1], "w") as file:
    json.dump({"exit_code": code, "peak_rss_kib": peak, "exit_rss_kib": int(status["VmRSS"].split()[0])}, file)
sys.exit(code)
"""

FRAMES, SIZE, FPS = 8, 32, 8


def write_videos(folder: Path, count: int) -> list[str]:
    """``count`` videos of FRAMES frames (SIZE x SIZE, a colour per video and a moving bar); their file names."""
    import av

    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    names = []
    for i in range(count):
        name = f"clip{i:05d}.mp4"
        color = rng.integers(0, 256, 3, dtype=np.uint8)
        with av.open(str(folder / name), mode="w", format="mp4") as container:
            stream = container.add_stream("libx264", rate=FPS)
            stream.width = stream.height = SIZE
            stream.pix_fmt = "yuv420p"
            stream.options = {"preset": "ultrafast", "bf": "0"}
            for t in range(FRAMES):
                frame = np.empty((SIZE, SIZE, 3), np.uint8)
                frame[:] = color
                frame[12:20, (t * 3) % (SIZE - 8) :][:, :8] = 255 - color
                container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
            container.mux(stream.encode())
        names.append(name)
    return names


def save_tiny_model(folder: Path) -> Path:
    """A random tiny ViCLIP (the tests' size: 32x32 frames, 8 frames, the CLIP vocabulary) and its processor."""
    import torch

    from viclip import ViCLIPConfig, ViCLIPModel, ViCLIPProcessor

    torch.manual_seed(0)
    config = ViCLIPConfig(
        vision_config={
            "image_size": SIZE,
            "patch_size": 8,
            "hidden_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "intermediate_size": 256,
            "num_frames": FRAMES,
        },
        text_config={
            "hidden_size": 48,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "intermediate_size": 192,
        },
        projection_dim=32,
    )
    ViCLIPModel(config).eval().save_pretrained(folder)
    ViCLIPProcessor.for_model(image_size=SIZE, num_frames=FRAMES).save_pretrained(folder)
    return folder


def ray_engine_flags() -> list[str]:
    """``--engine ray`` where ``viclip embed`` has it; before it, Ray is what runs without ``--local``."""
    help_text = subprocess.run(
        [sys.executable, "-m", "viclip_cli", "embed", "--help"], capture_output=True, text=True, check=True
    ).stdout
    return ["--engine", "ray"] if "--engine" in help_text else []


def embed_once(work: Path, count: int, model: Path) -> dict:
    """Embed ``count`` fresh videos; the driver's peak memory and the run's wall time, checked complete."""
    videos, output = work / f"videos-{count}", work / f"embeddings-{count}"
    names = write_videos(videos, count)
    report = work / f"driver-{count}.json"
    argv = ["embed", "--inputs", str(videos), "--model", str(model), "--output-dir", str(output), "--quiet"]
    start = time.perf_counter()
    job = subprocess.run(
        [sys.executable, "-c", DRIVER, str(report), *argv, *ray_engine_flags()],
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    if job.returncode != 0:
        raise SystemExit(
            f"viclip embed failed on {count} videos (exit {job.returncode}):\n{job.stderr[-3000:]}"
        )

    from viclip.inference.store import load_embeddings

    table, _ = load_embeddings(output)
    embedded = sorted(Path(path).name for path in table.column("path").to_pylist())
    if embedded != names:  # names are sorted, one per file
        missing, repeated = set(names) - set(embedded), len(embedded) - len(set(embedded))
        raise SystemExit(f"{count} videos: {len(missing)} not embedded, {repeated} embedded twice")
    if (output / "failures.jsonl").is_file() and (output / "failures.jsonl").read_text().strip():
        raise SystemExit(f"{count} videos: failures listed in {output / 'failures.jsonl'}")
    memory = json.loads(report.read_text())
    return {
        "count": count,
        "seconds": seconds,
        "peak_mib": memory["peak_rss_kib"] / 1024,
        "exit_mib": memory["exit_rss_kib"] / 1024,
        "summary": job.stdout.strip(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs=2, default=[500, 2000], metavar=("SMALL", "LARGE"))
    args = parser.parse_args(argv)
    print(f"CPU: {cpu_kind().describe()}", flush=True)  # figures hold for this CPU kind only
    with tempfile.TemporaryDirectory(prefix="bench-embed-load-") as tmp:
        work = Path(tmp)
        model = save_tiny_model(work / "tiny-viclip")
        runs = [embed_once(work, count, model) for count in args.counts]
    for run in runs:
        print(
            f"N={run['count']:>5}: every file embedded once in {run['seconds']:.1f} s "
            f"({run['count'] / run['seconds']:.1f} files/s); driver RSS peak {run['peak_mib']:.1f} MiB, "
            f"at the end {run['exit_mib']:.1f} MiB"
        )
        print(f"         {run['summary']}")
    small, large = runs
    for key, what in (("peak_mib", "peak"), ("exit_mib", "at the end")):
        growth = (large[key] - small[key]) * 1024 / (large["count"] - small["count"])
        print(
            f"driver RSS {what}, N={large['count']} / N={small['count']}: {large[key] / small[key]:.3f} "
            f"({growth:+.2f} KiB per extra file)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
