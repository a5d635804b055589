"""Embed videos into a Parquet dataset of L2-normalised ViCLIP embeddings, in process or on Ray Data (resumable).

--engine auto (the default) picks the faster here and the summary says why: in this process on one machine
without a GPU and under 8 cores; else Ray Data, decoding in CPU tasks and the model in actors (one per GPU with
--num-gpus, CPU actors otherwise). A rerun into
the same --output-dir embeds only what is missing (or changed); unreadable videos are skipped and listed in
OUTPUT_DIR/failures.jsonl. With --window the videos are cut into overlapping windows so that `viclip search`
can return the moment.
"""

from __future__ import annotations

import argparse
import sys

from .base import CommandError, UsageError
from .options import (
    add_decode_limit_arguments,
    add_engine_arguments,
    add_model_arguments,
    add_quiet_argument,
    check_model_reference,
    check_output_dir,
    engine_options,
    positive_seconds,
    resolve_device,
)

EXTRA = "embed"
HELP = "embed videos (folder, clip list, InternVid rows) into a Parquet dataset, in process or on Ray Data"
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
    add_engine_arguments(parser)
    add_decode_limit_arguments(parser)
    add_quiet_argument(parser)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    if not Path(args.inputs).exists():
        raise UsageError(f"--inputs {args.inputs!r} does not exist")
    if args.stride is not None and args.window is None:
        raise UsageError("--stride needs --window")
    engine = engine_options(args)
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
        **engine,
        dtype=args.dtype,
        device=device,
        batch_size=args.batch_size,
        optimize=args.optimize,
        decode_timeout=args.decode_timeout,
        max_pixels=args.max_pixels,
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
