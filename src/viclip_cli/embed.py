"""Embed videos into a Parquet dataset of L2-normalised ViCLIP embeddings, on Ray Data (resumable).

Decoding runs in CPU tasks, the model in actors (one per GPU with --num-gpus, CPU actors otherwise). A rerun into
the same --output-dir embeds only what is missing (or changed); unreadable videos are skipped and listed in
OUTPUT_DIR/failures.jsonl. With --window the videos are cut into overlapping windows so that `viclip search`
can return the moment.
"""

from __future__ import annotations

import argparse
import sys

from .base import CommandError, UsageError
from .options import (
    add_model_arguments,
    check_model_reference,
    check_output_dir,
    positive_int,
    positive_seconds,
    resolve_device,
)

HELP = "embed videos (folder, clip list, InternVid rows) into a Parquet dataset, on Ray Data"
EPILOG = (
    "examples: viclip embed --inputs videos/ --model ./ViCLIP-L-14 --output-dir emb/ --dtype bf16\n"
    "          viclip embed --inputs videos/ --model DIR --output-dir emb/ --window 4 --stride 2 --num-gpus 8\n"
    "          viclip embed --inputs rows.jsonl --video-root videos/ --model DIR --output-dir emb/"
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.add_argument(
        "--inputs",
        required=True,
        metavar="PATH",
        help="a folder of videos, a video, a clip list (CSV/TSV/JSONL: path,start_sec,end_sec) or InternVid rows",
    )
    parser.add_argument("--output-dir", required=True, metavar="DIR", help="the embedding dataset folder")
    parser.add_argument(
        "--video-root",
        default=None,
        metavar="DIR",
        help="base folder of a list's relative paths / InternVid videos",
    )
    windows = parser.add_argument_group("moments")
    windows.add_argument(
        "--window", type=positive_seconds, default=None, metavar="SEC", help="embed windows of SEC seconds"
    )
    windows.add_argument(
        "--stride",
        type=positive_seconds,
        default=None,
        metavar="SEC",
        help="window start every SEC (default: --window)",
    )
    add_model_arguments(parser)
    engine = parser.add_argument_group("engine")
    engine.add_argument(
        "--ray-address", default=None, metavar="ADDR", help="a Ray cluster to run on (default: a local one)"
    )
    engine.add_argument(
        "--num-gpus", type=int, default=0, metavar="N", help="model actors, one per GPU (default: 0, CPU)"
    )
    engine.add_argument(
        "--num-cpu-actors", type=positive_int, default=1, metavar="N", help="CPU model actors without GPUs"
    )
    engine.add_argument(
        "--cpus-per-actor",
        type=positive_int,
        default=1,
        metavar="N",
        help="CPUs (torch threads) of each CPU model actor; the CPUs left over decode (default: 1)",
    )
    engine.add_argument("--local", action="store_true", help="run in this process, without Ray")
    engine.add_argument(
        "--optimize",
        choices=["none", "compile"],
        default="none",
        help="compile: torch.compile the video tower (on a CPU with --dtype bf16 about 1.4x faster; the first "
        "batch compiles for 30-60 s)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    if not Path(args.inputs).exists():
        raise UsageError(f"--inputs {args.inputs!r} does not exist")
    if args.stride is not None and args.window is None:
        raise UsageError("--stride needs --window")
    if args.num_gpus < 0:
        raise UsageError(f"--num-gpus must be 0 or more, got {args.num_gpus}")
    if args.local and (args.ray_address or args.num_gpus):
        raise UsageError("--local runs without Ray: drop --ray-address/--num-gpus")
    check_model_reference(args.model)
    check_output_dir(args.output_dir)  # a file in the way or a folder that cannot be made: before Ray starts
    device = args.device
    if device is not None and not args.ray_address:  # the workers run on this machine: check the device here
        device = resolve_device(device)

    from viclip.embedding import embed_videos
    from viclip.inference.store import FAILURES_FILE

    result = embed_videos(
        args.inputs,
        args.model,
        args.output_dir,
        window_sec=args.window,
        stride_sec=args.stride,
        video_root=args.video_root,
        runner="local" if args.local else "ray",
        ray_address=args.ray_address,
        num_gpus=args.num_gpus,
        num_cpu_actors=args.num_cpu_actors,
        cpus_per_actor=args.cpus_per_actor,
        dtype=args.dtype,
        device=device,
        batch_size=args.batch_size,
        optimize=args.optimize,
        progress=not args.quiet,
    )
    for failure in result.failures:
        print(f"{args._prog}: warning: skipped {failure.describe()}: {failure.error}", file=sys.stderr)
    if not result.num_embedded and not result.num_reused:
        why = (
            f"{len(result.failures)} failed, listed in {Path(args.output_dir) / FAILURES_FILE}"
            if result.failures
            else f"--inputs {args.inputs!r} names no clip"
        )
        raise CommandError(f"no video could be embedded ({why})")
    print(result.summary())
    return 0
