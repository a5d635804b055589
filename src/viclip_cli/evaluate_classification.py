"""Zero-shot classification: top-1, top-5 and AVG on a list of labelled videos.

LIST is a CSV/TSV (header: path,start,end,label; start/end optional, seconds) or JSONL with the same keys. Paths
are relative to LIST's folder. A top-k with fewer classes than k is reported as not applicable (null, "n/a").
"""

from __future__ import annotations

import argparse

from .base import UsageError
from .options import add_embedder_arguments, require_file
from .report import add_report_arguments, check_report_paths, run_task

EXTRA = "eval"
HELP = "zero-shot top-1/top-5/AVG on a list of labelled videos"
EPILOG = (
    "example: viclip evaluate classification k400_val.csv --model ./viclip-l14 --output k400.json "
    "--plot k400_confusion.png"
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.add_argument("list", metavar="LIST", help="labelled video list (.csv, .tsv or .jsonl)")
    parser.add_argument(
        "--classes",
        metavar="FILE",
        help="class names, one per line (default: the distinct labels of LIST, sorted)",
    )
    parser.add_argument(
        "--templates",
        default="actionclip",
        help='"actionclip" (the paper\'s 16, default), "single", or a template with {}',
    )
    add_embedder_arguments(parser)
    add_report_arguments(parser, plot_help="write a confusion matrix PNG here")


def run(args: argparse.Namespace) -> int:
    from viclip.data import read_labelled_videos
    from viclip.evaluation import evaluate_classification, read_label_file, resolve_templates

    check_report_paths(args)
    listing = require_file(args.list, "video list")
    templates = resolve_templates(args.templates)
    class_names = None
    if args.classes:
        class_names = read_label_file(require_file(args.classes, "--classes"))
        if not class_names:
            raise UsageError(f"--classes {args.classes!r} holds no class names")
    videos = read_labelled_videos(listing)
    return run_task(
        args,
        "classification",
        listing,
        lambda embedder, **run: evaluate_classification(embedder, videos, class_names, templates, **run),
    )
