"""Prepared shards vs reading from source videos: reader speed, preparation speed and fidelity, in one run.

On the same rows of whole 720p synthetic source videos (cached in ``--cache-dir``, made by bench_dataloader's
generator):

- reader: clips/s per core into the model (training transform, 8x224, tokens) from prepared shards
  (``load_prepared``) vs ``load_internvid`` from the source videos, both in one process (= one core);
- preparation: clips/s per core of ``prepare_internvid`` (Ray Data, ``--num-cpus`` cores, workers warmed up
  first) vs ``load_internvid``'s clips/s on one core;
- fidelity: cosine between the evaluation pixels of each prepared clip and ``load_internvid(training=False)``.

Usage: ``python benchmarks/bench_prepare.py`` (about 2-3 minutes on 2 cores the first time, with the videos).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from bench_dataloader import make_sources

from viclip.data import load_internvid, load_prepared, prepare_internvid
from viclip.processing import ViCLIPProcessor


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
    parser.add_argument("--videos", type=int, default=2)
    parser.add_argument("--minutes", type=float, default=1.0)
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--keyframe-interval", type=float, default=2.0)
    parser.add_argument("--clips", type=int, default=24, help="rows (2-8 s clips at random places)")
    parser.add_argument(
        "--reader-passes", type=int, default=4, help="passes over the shards for the reader rate"
    )
    parser.add_argument("--num-cpus", type=int, default=os.cpu_count() or 1, help="Ray cores for preparation")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache-dir", default="outputs/bench_dataloader")
    args = parser.parse_args()

    import ray

    torch.set_num_threads(1)
    annotations, video_root = make_sources(args)
    processor = ViCLIPProcessor.for_model(224, 8)
    work = Path(tempfile.mkdtemp(prefix="bench_prepare_"))
    try:
        ray.init(
            num_cpus=args.num_cpus, include_dashboard=False, log_to_driver=False, logging_level="WARNING"
        )
        common = {"video_root": video_root, "data_files": annotations, "progress": False}
        common["rows_per_shard"] = max(1, -(-args.clips // (2 * args.num_cpus)))  # two shards per core
        prepare_internvid(
            work / "warm-up", max_rows=2 * args.num_cpus, **common
        )  # start and import the workers
        start = time.perf_counter()
        report = prepare_internvid(work / "prepared", **common)
        prepare_rate = report.rows_written / (time.perf_counter() - start)
        ray.shutdown()

        source = {
            "data_files": annotations,
            "video_root": video_root,
            "processor": processor,
            "num_shards": 1,
        }
        source_rate, _ = rate(load_internvid(**source), args.clips)
        shards = load_prepared(work / "prepared", processor=processor)
        reader_rate, _ = rate(
            (e for _ in range(args.reader_passes) for e in shards), args.reader_passes * report.rows_written
        )
        reference = {
            e["row_index"]: e["pixel_values_videos"] for e in load_internvid(**source, training=False)
        }
        cosines = [
            torch.nn.functional.cosine_similarity(
                e["pixel_values_videos"].flatten(), reference[e["row_index"]].flatten(), dim=0
            ).item()
            for e in load_prepared(work / "prepared", processor=processor, training=False)
        ]
        size = sum(p.stat().st_size for p in (work / "prepared" / "shards").glob("*.parquet"))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    per_core = prepare_rate / args.num_cpus
    print(f"\nrows: {args.clips} clips of 2-8 s in {args.videos} whole 1280x720 videos of {args.minutes} min")
    print(f"load_internvid from 720p sources, 1 process:  {source_rate:7.2f} clips/s per core")
    print(f"load_prepared from shards, 1 process:        {reader_rate:7.2f} clips/s per core")
    print(f"  reader ratio: {reader_rate / source_rate:.1f}x (target >= 8x)")
    print(
        f"prepare_internvid on Ray, {args.num_cpus} cores:   {prepare_rate:7.2f} clips/s = {per_core:.2f} per core"
    )
    print(f"  preparation ratio: {per_core / source_rate:.2f}x load_internvid per core (target >= 0.5x)")
    print(
        f"fidelity (evaluation pixels, cosine per clip): min {min(cosines):.4f}, mean {sum(cosines) / len(cosines):.4f}"
        f" over {len(cosines)} clips (target >= 0.98)"
    )
    print(f"storage: {size / max(1, report.rows_written) / 1024:.0f} KiB per clip")


if __name__ == "__main__":
    main()
