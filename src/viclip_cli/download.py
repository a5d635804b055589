"""Download the videos of InternVid annotation rows with yt-dlp (pip install 'viclip[download]').

By default one file per row, only the annotated segment, saved as {YoutubeID}_{start}_{end}.mp4; with --whole,
one {YoutubeID}.mp4 per video. Files already present are skipped, so a rerun resumes; failures are listed in
OUTPUT_DIR/failures.jsonl. With --engine ray (or --ray-address ADDR) the downloads are Ray tasks spread over the
machines of a Ray cluster (every node must see --output-dir); resume and failures.jsonl work the same.
Python API: viclip.data.download_internvid.
"""

from __future__ import annotations

import argparse

from .base import CommandError, UsageError
from .options import add_quiet_argument, check_output_dir, positive_int, require_file

EXTRA = None
HELP = "download InternVid clips with yt-dlp"
EPILOG = "example: viclip download rows.jsonl --output-dir videos/ --workers 8"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.add_argument("annotations", nargs="+", help="InternVid annotation files (.jsonl or .parquet)")
    parser.add_argument("--output-dir", required=True, help="folder to download into (the video root)")
    parser.add_argument("--whole", action="store_true", help="download whole videos, not only the sections")
    parser.add_argument(
        "--workers", type=positive_int, default=4, help="downloads at once, over the cluster with Ray (4)"
    )
    parser.add_argument(
        "--engine",
        choices=("threads", "ray"),
        default=None,
        help="threads of this machine (default) or Ray tasks spread over machines (default with --ray-address)",
    )
    parser.add_argument("--ray-address", default=None, help="Ray cluster address (implies --engine ray)")
    parser.add_argument("--yt-dlp", dest="yt_dlp", default=None, help="path of the yt-dlp executable")
    parser.add_argument(
        "--max-height", type=positive_int, default=360, help="highest resolution to fetch (default: 360)"
    )
    parser.add_argument("--limit", type=positive_int, default=None, help="download at most this many files")
    parser.add_argument("--skip-failed", action="store_true", help="do not retry what failures.jsonl lists")
    parser.add_argument(
        "--timeout", type=float, default=900.0, help="seconds allowed per download (default: 900)"
    )
    parser.add_argument("--yt-dlp-args", default="", help="extra yt-dlp arguments, one string")
    add_quiet_argument(parser)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from viclip.data.download import FAILURES_FILE, download_internvid

    files = [require_file(path, "annotation file") for path in args.annotations]
    check_output_dir(args.output_dir)
    if args.engine == "threads" and args.ray_address:
        raise UsageError("--ray-address needs --engine ray")
    report = download_internvid(
        files,
        args.output_dir,
        sections=not args.whole,
        workers=args.workers,
        yt_dlp=args.yt_dlp,
        max_height=args.max_height,
        limit=args.limit,
        skip_failed=args.skip_failed,
        extra_args=args.yt_dlp_args.split(),
        timeout=args.timeout,
        progress=not args.quiet,
        engine=args.engine,
        ray_address=args.ray_address,
    )
    print(report.summary())
    if report.failed:
        print(f"failures listed in {Path(args.output_dir) / FAILURES_FILE}")
        if not report.downloaded and not report.existing:
            raise CommandError(f"no video could be downloaded; see {Path(args.output_dir) / FAILURES_FILE}")
    return 0
