"""Prepare InternVid once for training: rows joined to their videos -> training-ready Parquet shards, on Ray Data.

Each clip is cut, reduced to the frames training and evaluation can sample, resized to a short side of 320 and
stored as JPEG with its caption and source fields; OUTPUT_DIR/manifest.json counts the rows written and the rows
skipped by reason (skipped.jsonl lists them). Without --ray-address a local Ray instance uses every core (or
--num-cpus); with it the same job runs on the cluster (every node must see --video-root and --output-dir).
A rerun with the same arguments resumes. Read with viclip.data.load_prepared(OUTPUT_DIR) or
`viclip train --train_shards OUTPUT_DIR`. Python API: viclip.data.prepare_internvid.

--clips FILE prepares your own captioned clips instead: a caption list (path,start_sec,end_sec,caption as CSV, TSV
or JSON Lines, the format viclip evaluate retrieval reads; relative paths against --video-root, else the list's
folder).
"""

from __future__ import annotations

import argparse

from .base import CommandError
from .options import (
    add_decode_limit_arguments,
    add_quiet_argument,
    check_output_dir,
    positive_int,
    require_dir,
    require_file,
)

EXTRA = "data"
HELP = "prepare training-ready shards (Ray Data) from InternVid annotations or a caption list, and videos"
EPILOG = (
    "examples: viclip prepare --annotations flt.jsonl --video-root videos/ --output-dir prepared/ --num-cpus 16\n"
    "          viclip prepare --clips clips.csv --output-dir prepared/"
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.add_argument(
        "--annotations", nargs="+", metavar="FILE", help="InternVid annotation files (.jsonl or .parquet)"
    )
    parser.add_argument(
        "--hub-split", default=None, help="read OpenGVLab/InternVid from the Hub instead (FLT, AES; gated)"
    )
    parser.add_argument(
        "--clips",
        metavar="FILE",
        default=None,
        help="a caption list (path,start_sec,end_sec,caption) instead",
    )
    parser.add_argument(
        "--video-root",
        default=None,
        help="folder of whole videos and/or pre-cut clips (with --clips: relative paths' folder, default the list's)",
    )
    parser.add_argument("--output-dir", required=True, help="the prepared folder (a rerun into it resumes)")
    parser.add_argument("--ray-address", default=None, help="Ray cluster address (default: a local instance)")
    parser.add_argument("--num-cpus", type=positive_int, default=None, help="cores of the local Ray instance")
    filters = parser.add_argument_group("row filters (as load_internvid)")
    filters.add_argument("--min-umt-score", type=float, default=None)
    filters.add_argument("--min-aesthetic-score", type=float, default=None)
    filters.add_argument("--min-duration", type=float, default=None, help="seconds")
    filters.add_argument("--max-duration", type=float, default=None, help="seconds")
    filters.add_argument("--min-caption-words", type=int, default=0)
    shards = parser.add_argument_group("shards")
    shards.add_argument(
        "--model",
        metavar="MODEL_DIR",
        default=None,
        help="the model to train (folder or Hub id): its processor's frame count is kept (default: ViCLIP's 8)",
    )
    shards.add_argument(
        "--train-choices", type=positive_int, default=3, help="frames kept per segment for training (3)"
    )
    shards.add_argument(
        "--short-side", type=positive_int, default=320, help="short side of stored frames (320)"
    )
    shards.add_argument("--jpeg-quality", type=positive_int, default=90, help="JPEG quality (90)")
    shards.add_argument("--rows-per-shard", type=positive_int, default=1000, help="annotation rows per shard")
    shards.add_argument("--max-rows", type=positive_int, default=None, help="only the first N rows (a trial)")
    add_decode_limit_arguments(parser)
    add_quiet_argument(parser)


def run(args: argparse.Namespace) -> int:
    from .base import UsageError

    if sum(map(bool, (args.annotations, args.hub_split, args.clips))) != 1:
        raise UsageError("give one of --annotations FILE..., --hub-split SPLIT or --clips FILE")
    files = [str(require_file(path, "annotation file")) for path in args.annotations or []]
    if args.video_root is not None or not args.clips:
        if args.video_root is None:
            raise UsageError("--video-root is required with --annotations or --hub-split")
        require_dir(args.video_root, "--video-root")
    check_output_dir(args.output_dir)
    if args.clips:
        from viclip.data.caption_list import CaptionListSource

        try:
            CaptionListSource(str(require_file(args.clips, "caption list")), args.video_root).check()
        except ValueError as e:
            raise UsageError(str(e)) from None

    from viclip.data import AnnotationFilter, prepare_internvid

    try:
        filters = AnnotationFilter(
            min_umt_score=args.min_umt_score,
            min_aesthetic_score=args.min_aesthetic_score,
            min_duration=args.min_duration,
            max_duration=args.max_duration,
            min_caption_words=args.min_caption_words,
        )
    except ValueError as e:
        raise UsageError(str(e)) from None
    report = prepare_internvid(
        args.output_dir,
        video_root=args.video_root,
        data_files=files or None,
        clips=args.clips,
        split=args.hub_split,
        token=True if args.hub_split else None,
        filters=filters,
        processor=args.model,
        train_choices=args.train_choices,
        short_side=args.short_side,
        jpeg_quality=args.jpeg_quality,
        rows_per_shard=args.rows_per_shard,
        max_rows=args.max_rows,
        ray_address=args.ray_address,
        num_cpus=args.num_cpus,
        decode_timeout=args.decode_timeout,
        max_pixels=args.max_pixels,
        progress=not args.quiet,
    )
    print(report.summary())
    if not report.complete:
        raise CommandError(
            f"{args.output_dir}: shards {report.shards_pending} failed; rerun the command to finish"
        )
    return 0
