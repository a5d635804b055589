"""Clips per second into the model (8 frames x 224) from whole 720p source videos of several minutes.

Compares, in the same run, on the same rows, with the same DataLoader workers and the same processor:

- ``load_internvid``: the streaming pipeline (seek to the keyframe before the segment, decode only to
  the sampled frames, training transform, tokenizer);
- naive: decode the video from its start up to the end of the segment, then sample the frames and
  apply the same processor.

Synthetic source videos are written once into ``--cache-dir`` (h264 ``ultrafast``, keyframe every
``--keyframe-interval`` seconds). Usage: ``python benchmarks/bench_dataloader.py [--workers 2]``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import av
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from viclip.data import generate_synthetic_internvid, load_internvid
from viclip.data.annotations import format_timestamp, parse_row
from viclip.inference.dtype_choice import cpu_kind
from viclip.processing import ViCLIPProcessor, sample_frame_indices


def make_sources(args) -> tuple[Path, Path]:
    """Whole 720p videos (cached) and rows at random positions inside them."""
    root = Path(args.cache_dir) / f"{args.videos}x{args.minutes}min_{args.fps}fps_kf{args.keyframe_interval}"
    if not (root / "annotations.jsonl").is_file():
        print(f"writing {args.videos} synthetic 1280x720 videos of {args.minutes} min to {root} (once) ...")
        generate_synthetic_internvid(
            root,
            num_videos=args.videos,
            clips_per_video=4,
            seconds=args.minutes * 60,
            size=(1280, 720),
            fps=args.fps,
            seed=0,
            keyframe_interval=args.keyframe_interval,
        )
    ids = sorted({json.loads(line)["YoutubeID"] for line in (root / "annotations.jsonl").open()})
    return write_random_rows(root, ids, args.clips, args.minutes, args.seed, "a shape moves"), root / "videos"


def write_random_rows(
    root: Path, ids: list[str], clips: int, minutes: float, seed: int, caption: str
) -> Path:
    """InternVid rows of 2-8 s clips at random places in the sources ``ids`` (``minutes`` long), as JSONL."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(clips):
        duration = float(rng.uniform(2, 8))  # 85% of InternVid clips are under 10 s
        start = float(rng.uniform(0, minutes * 60 - duration - 1))
        rows.append({
            "YoutubeID": str(rng.choice(ids)), "Start_timestamp": format_timestamp(start),
            "End_timestamp": format_timestamp(start + duration), "Caption": caption,
            "Aesthetic_Score": 5.0, "UMT_Score": 0.4,
        })  # fmt: skip
    annotations = root / f"bench_rows_{clips}_{seed}.jsonl"
    annotations.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return annotations


class NaiveDataset(Dataset):
    """Decode from the start of the video to the end of the segment, sample, then the same processor."""

    def __init__(self, annotations: Path, video_root: Path, processor: ViCLIPProcessor):
        self.rows = [parse_row(json.loads(line)) for line in annotations.open()]
        self.video_root, self.processor = video_root, processor

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict:
        clip = self.rows[i]
        in_range = []
        with av.open(str(self.video_root / f"{clip.youtube_id}.mp4")) as container:
            stream = container.streams.video[0]
            stream.codec_context.thread_count = 1
            for frame in container.decode(stream):
                if frame.time >= clip.end_sec:
                    break
                if frame.time >= clip.start_sec:
                    in_range.append(frame)
        indices = sample_frame_indices(len(in_range), 8, "random", np.random.default_rng(i))
        frames = np.stack([in_range[j].to_ndarray(format="rgb24") for j in indices])
        video = self.processor.video_processor(
            frames, do_sample_frames=False, do_train_augmentation=True, return_tensors="pt"
        )["pixel_values_videos"][0]
        text = self.processor(text=clip.caption, return_tensors="pt")
        return {"pixel_values_videos": video, "input_ids": text["input_ids"][0], "row_index": i}


def clips_per_second(dataset, workers: int, batch_size: int, limit: int) -> tuple[float, int]:
    loader = DataLoader(dataset, batch_size=batch_size, num_workers=workers)
    seen, start = 0, None
    for batch in loader:
        assert batch["pixel_values_videos"].shape[1:] == (8, 3, 224, 224)
        if start is None:  # time from the first batch on: excludes worker start-up
            start, first = time.perf_counter(), len(batch["row_index"])
            continue
        seen += len(batch["row_index"])
        if seen + first >= limit:
            break
    return seen / (time.perf_counter() - start), seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", type=int, default=3)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--keyframe-interval", type=float, default=2.0)
    parser.add_argument("--clips", type=int, default=64, help="rows for the fast pipeline")
    parser.add_argument("--naive-clips", type=int, default=16, help="rows for the (slow) naive baseline")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache-dir", default="outputs/bench_dataloader")
    args = parser.parse_args()
    print(f"CPU: {cpu_kind().describe()}", flush=True)  # figures hold for this CPU kind only
    torch.set_num_threads(1)

    annotations, video_root = make_sources(args)
    processor = ViCLIPProcessor.for_model(224, 8)
    fast_ds = load_internvid(
        data_files=annotations, video_root=video_root, processor=processor, training=True,
        shuffle=False, num_shards=max(1, args.workers),
    )  # fmt: skip
    fast, n_fast = clips_per_second(fast_ds, args.workers, args.batch_size, args.clips)
    naive, n_naive = clips_per_second(
        NaiveDataset(annotations, video_root, processor), args.workers, args.batch_size, args.naive_clips
    )
    cores = max(1, args.workers)
    print(f"sources: {args.videos} x {args.minutes} min, 1280x720 @ {args.fps} fps, keyframe every "
          f"{args.keyframe_interval} s; clips 2-8 s at random positions; output 8x3x224x224 + tokens")  # fmt: skip
    print(f"workers: {args.workers} (1 decode thread each), batch {args.batch_size}")
    print(f"load_internvid: {fast:7.2f} clips/s ({fast / cores:.2f} per core, {n_fast} clips timed)")
    print(f"naive         : {naive:7.2f} clips/s ({naive / cores:.2f} per core, {n_naive} clips timed)")
    print(f"speed-up      : {fast / naive:.1f}x (target 10x)")


if __name__ == "__main__":
    main()
