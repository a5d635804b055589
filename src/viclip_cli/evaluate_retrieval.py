"""Text-video retrieval: R@1/5/10, median and mean rank in both directions on a captioned video list.

LIST is a CSV/TSV (header: path,start,end,caption) or JSONL where caption may be a list; a video may have several
captions. An R@K with fewer candidates than K is reported as not applicable (null, "n/a").
"""

from __future__ import annotations

import argparse

from .options import add_embedder_arguments, require_file
from .report import add_report_arguments, check_report_paths, run_task

EXTRA = "eval"
HELP = "text-video retrieval R@K and ranks on a captioned video list"
EPILOG = (
    "example: viclip evaluate retrieval msrvtt_1ka.jsonl --model ./viclip-l14 --dual-softmax --output r.json"
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.add_argument("list", metavar="LIST", help="captioned video list (.csv, .tsv or .jsonl)")
    parser.add_argument(
        "--dual-softmax", action="store_true", help="also report dual-softmax re-ranked metrics (dsl_*)"
    )
    parser.add_argument(
        "--temperature", type=float, default=100.0, help="dual-softmax temperature (default: 100)"
    )
    add_embedder_arguments(parser)
    add_report_arguments(parser, plot_help="write a caption x video similarity heat map PNG here")


def run(args: argparse.Namespace) -> int:
    from viclip.data import read_captioned_videos
    from viclip.evaluation import evaluate_retrieval

    check_report_paths(args)
    listing = require_file(args.list, "video list")
    gallery = read_captioned_videos(listing)
    return run_task(
        args,
        "retrieval",
        listing,
        lambda embedder, **run: evaluate_retrieval(
            embedder, gallery, dual_softmax=args.dual_softmax, temperature=args.temperature, **run
        ),
    )
