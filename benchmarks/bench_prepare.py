"""Prepared shards vs reading from source videos: reader speed, preparation speed and fidelity, in one run.

On the same rows (2-8 s clips at random places) of whole 1280x720 source videos, written once into
``--cache-dir``:

- reader: clips/s per core into the model (training transform, 8x224, tokens) from prepared shards
  (``load_prepared``) vs ``load_internvid`` from the source videos, both in this process (= one core);
- preparation: clips/s per core of ``prepare_internvid`` (Ray Data, ``--num-cpus`` cores, workers warmed up
  first; the job's rate includes Ray Data's start-up) and of ``prepare_shard`` in this process (the steady
  state a large job tends to), each vs ``load_internvid``'s clips/s on one core;
- fidelity: cosine between the evaluation pixels of prepared clips and ``load_internvid(training=False)``.

Sources (``--source``): ``detailed`` (default) is a textured, panning, grainy video encoded by x264
(``superfast``, CABAC, keyframe every 2 s) at ``--bitrate`` (3 Mbit/s, about YouTube's 720p), which decodes at
about the speed of real 720p footage; ``flat`` is bench_dataloader's flat shapes on a plain background
(~0.1 Mbit/s), which decodes ~8x faster than real footage and flatters the source-video baseline.

Usage: ``python benchmarks/bench_prepare.py`` (about 2 minutes on 2 cores, plus ~40 s the first time to
write the videos).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from bench_dataloader import make_sources, write_random_rows

from viclip.data import load_internvid, load_prepared, prepare_internvid
from viclip.data.prepare_shard import PrepareSettings, prepare_shard
from viclip.inference.dtype_choice import cpu_kind
from viclip.processing import ViCLIPProcessor


def write_detailed_video(path: Path, seconds: float, fps: int, bitrate: int, seed: int) -> None:
    """A 1280x720 pan over a detailed texture with light grain, at a real-footage bitrate (see the docstring).

    The detail is a few pixels across, not per-pixel noise: per-pixel noise is unlike footage and makes the
    source path's resize (bicubic without antialiasing, as the original) alias, which no real video does as much.
    """
    import av
    from PIL import Image

    rng = np.random.default_rng(seed)
    width, height = 1280, 720

    def noise(scale: int, channels: int) -> np.ndarray:  # detail at a scale of ``scale`` pixels
        small = rng.integers(0, 256, (3 * height // scale, 3 * width // scale, channels), dtype=np.uint8)
        image = Image.fromarray(small.squeeze(-1) if channels == 1 else small)
        image = image.resize((3 * width, 3 * height), Image.Resampling.BICUBIC)
        return np.asarray(image).reshape(3 * height, 3 * width, channels).astype(np.int16)

    # coarse colour regions plus finer luminance detail (a few pixels across), then a light grain
    texture = (noise(24, 3) * 5 + noise(3, 1) * 3) // 8
    grain = [rng.integers(-3, 4, (height, width, 1), dtype=np.int16) for _ in range(4)]
    temp = path.with_name(f".{path.name}.tmp.mp4")
    with av.open(str(temp), "w") as container:
        options = {"preset": "superfast", "g": str(2 * fps), "keyint_min": str(2 * fps)}
        stream = container.add_stream("libx264", rate=fps, options=options)
        stream.width, stream.height, stream.pix_fmt, stream.bit_rate = width, height, "yuv420p", bitrate
        for i in range(int(seconds * fps)):
            t = i / fps
            x = int((2 * width - 1) * (0.5 + 0.5 * np.sin(t / 7 + seed)))
            y = int((2 * height - 1) * (0.5 + 0.5 * np.sin(t / 11 + 1 + seed)))
            frame = np.clip(texture[y : y + height, x : x + width] + grain[i % 4], 0, 255).astype(np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode(None))
    os.replace(temp, path)


def make_detailed_sources(args) -> tuple[Path, Path]:
    """Detailed 720p videos (cached) and ``args.clips`` rows at random positions inside them."""
    root = Path(args.cache_dir) / f"detailed2_{args.videos}x{args.minutes}min_{args.fps}fps_{args.bitrate}"
    videos = root / "videos"
    videos.mkdir(parents=True, exist_ok=True)
    ids = [f"detailed{i:03d}" for i in range(args.videos)]  # 11 characters, like YouTube ids
    for i, youtube_id in enumerate(ids):
        if not (videos / f"{youtube_id}.mp4").is_file():
            print(f"writing detailed 1280x720 video {i + 1}/{len(ids)} of {args.minutes} min (once) ...")
            write_detailed_video(videos / f"{youtube_id}.mp4", args.minutes * 60, args.fps, args.bitrate, i)
    caption = "a textured scene pans slowly"
    return write_random_rows(root, ids, args.clips, args.minutes, args.seed, caption), videos


def rate(dataset, limit: int) -> tuple[float, list[dict]]:
    """Clips/s of iterating ``dataset`` in this process, and the examples."""
    start, examples = time.perf_counter(), []
    for example in dataset:
        examples.append(example)
        if len(examples) >= limit:
            break
    return len(examples) / (time.perf_counter() - start), examples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--source", choices=("detailed", "flat"), default="detailed", help="see the docstring"
    )
    parser.add_argument("--videos", type=int, default=2)
    parser.add_argument("--minutes", type=float, default=0.5)
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--bitrate", type=int, default=3_000_000, help="bits/s of the detailed videos")
    parser.add_argument("--keyframe-interval", type=float, default=2.0, help="of the flat videos")
    parser.add_argument("--clips", type=int, default=48, help="rows (2-8 s clips at random places)")
    parser.add_argument("--reader-passes", type=int, default=4, help="passes over the shards for the reader")
    parser.add_argument("--fidelity-clips", type=int, default=16, help="clips compared for fidelity")
    parser.add_argument("--num-cpus", type=int, default=os.cpu_count() or 1, help="Ray cores for preparation")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache-dir", default="outputs/bench_prepare")
    args = parser.parse_args()
    print(f"CPU: {cpu_kind().describe()}", flush=True)  # figures hold for this CPU kind only

    import ray

    torch.set_num_threads(1)
    annotations, video_root = make_detailed_sources(args) if args.source == "detailed" else make_sources(args)
    processor = ViCLIPProcessor.for_model(224, 8)
    work = Path(tempfile.mkdtemp(prefix="bench_prepare_"))
    timings = {}
    try:
        ray.init(
            num_cpus=args.num_cpus, include_dashboard=False, log_to_driver=False, logging_level="WARNING"
        )
        common = {
            "video_root": video_root,
            "data_files": annotations,
            "processor": processor,
            "progress": False,
        }
        common["rows_per_shard"] = max(1, -(-args.clips // (2 * args.num_cpus)))  # two shards per core
        warm_up = {**common, "rows_per_shard": 1, "max_rows": args.num_cpus}
        prepare_internvid(work / "warm-up", **warm_up)  # start every worker and import viclip there
        start = time.perf_counter()
        report = prepare_internvid(work / "prepared", **common)
        timings["prepare_ray"] = report.rows_written / (time.perf_counter() - start) / args.num_cpus
        ray.shutdown()

        lines = annotations.read_text().splitlines()
        rows = [(i, {"text": line}) for i, line in enumerate(lines[: max(4, args.clips // 4)])]
        settings = PrepareSettings(video_root=str(Path(video_root).resolve()), num_frames=8)
        start = time.perf_counter()
        written = prepare_shard(0, rows, settings, work / "in-process")["rows_written"]
        timings["prepare_one_core"] = written / (time.perf_counter() - start)

        source = {
            "data_files": annotations,
            "video_root": video_root,
            "processor": processor,
            "num_shards": 1,
        }
        timings["source"], _ = rate(load_internvid(**source), args.clips)
        shards = load_prepared(work / "prepared", processor=processor)
        passes = (e for _ in range(args.reader_passes) for e in shards)
        timings["reader"], _ = rate(passes, args.reader_passes * report.rows_written)

        evaluation = load_internvid(**source, training=False)
        reference = {
            e["row_index"]: e["pixel_values_videos"] for _, e in zip(range(args.fidelity_clips), evaluation)
        }
        cosines = [
            torch.nn.functional.cosine_similarity(
                e["pixel_values_videos"].flatten(), reference[e["row_index"]].flatten(), dim=0
            ).item()
            for e in load_prepared(work / "prepared", processor=processor, training=False, shuffle=False)
            if e["row_index"] in reference
        ]
        size = sum(p.stat().st_size for p in (work / "prepared" / "shards").glob("*.parquet"))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    source_rate = timings["source"]
    print(
        f"\n{args.clips} clips of 2-8 s in {args.videos} whole 1280x720 '{args.source}' videos of {args.minutes} min"
    )
    print(f"load_internvid from 720p sources, 1 core:     {source_rate:7.2f} clips/s")
    print(f"load_prepared from shards, 1 core:            {timings['reader']:7.2f} clips/s")
    print(
        f"prepare_internvid on Ray ({args.num_cpus} cores), per core: {timings['prepare_ray']:7.2f} clips/s (job of {report.rows_written} clips, Ray start-up included)"
    )
    print(
        f"prepare_shard in this process, 1 core:        {timings['prepare_one_core']:7.2f} clips/s (steady state)"
    )
    print(f"storage: {size / max(1, report.rows_written) / 1024:.0f} KiB per clip")
    print("\nsummary (ratios to load_internvid per core; targets in brackets)")
    print(f"  reader:              {timings['reader'] / source_rate:5.1f}x  [>= 8x]")
    print(f"  preparation, Ray job: {timings['prepare_ray'] / source_rate:5.2f}x  [>= 0.5x]")
    print(f"  preparation, steady:  {timings['prepare_one_core'] / source_rate:5.2f}x  [>= 0.5x]")
    print(
        f"  fidelity:            min cosine {min(cosines):.4f}, mean {sum(cosines) / len(cosines):.4f} over {len(cosines)} clips  [>= 0.98]"
    )


if __name__ == "__main__":
    main()
