"""Zero-shot classify videos with ViCLIP.

Each label is written in prompt templates and its similarity is the mean cosine similarity over the templates
(the paper's protocol); scores are softmax(logit_scale * similarity) over the labels. A video that cannot be
read is skipped and reported; the command fails only when no video could be classified.
"""

from __future__ import annotations

import argparse
import json
import sys

from .base import CommandError, UsageError
from .options import add_embedder_arguments, add_quiet_argument, load_embedder, positive_int, require_file

EXTRA = None
HELP = "zero-shot classify videos against free-form labels"
EPILOG = (
    'example: viclip classify dog.mp4 --model ./viclip-b16 --labels "playing fetch,cooking,skiing" '
    "--templates single --start 3 --end 8"
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.add_argument("videos", nargs="+", metavar="VIDEO", help="video file(s) to classify")
    labels = parser.add_argument_group("labels")
    labels.add_argument(
        "--labels", metavar='"A,B,C"', help='comma-separated candidate labels, e.g. "dancing,cooking"'
    )
    labels.add_argument(
        "--labels-file",
        metavar="FILE",
        help="a text file with one candidate label per line (blank lines and # comments ignored)",
    )
    labels.add_argument(
        "--templates",
        default="actionclip",
        metavar="TEMPLATES",
        help='prompt templates: "actionclip" (the paper\'s 16, default), "single" (the bare label), '
        'or one template with {} such as "a video of {}"',
    )
    clip = parser.add_argument_group("clip")
    clip.add_argument(
        "--start", type=float, default=None, metavar="SEC", help="start of the clip (default: 0)"
    )
    clip.add_argument(
        "--end", type=float, default=None, metavar="SEC", help="end of the clip (default: end of the video)"
    )
    add_embedder_arguments(parser)
    output = parser.add_argument_group("output")
    output.add_argument(
        "--top-k", type=positive_int, default=5, metavar="K", help="labels shown per video (default: 5)"
    )
    output.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_quiet_argument(output)


def read_candidate_labels(args: argparse.Namespace) -> list[str]:
    from viclip.evaluation import parse_labels, read_label_file

    if args.labels_file is not None:
        names = read_label_file(require_file(args.labels_file, "--labels-file"))
    elif args.labels is not None:
        names = parse_labels(args.labels)
    else:
        names = []
    if not names:
        raise UsageError('no candidate labels: give --labels "a,b,c" or --labels-file FILE')
    return names


def run(args: argparse.Namespace) -> int:
    from viclip.evaluation import classify_clips, resolve_templates
    from viclip.processing import VideoClip

    names = read_candidate_labels(args)
    templates = resolve_templates(args.templates)
    try:
        clips = [VideoClip(require_file(path, "video file"), args.start, args.end) for path in args.videos]
    except ValueError as error:
        raise UsageError(str(error)) from None
    embedder = load_embedder(args)
    result = classify_clips(
        embedder,
        clips,
        names,
        templates,
        top_k=args.top_k,
        batch_size=args.batch_size,
        progress=not args.quiet,
    )
    if not result.predictions:
        more = f" (and {len(result.failed) - 1} more)" if len(result.failed) > 1 else ""
        raise CommandError(f"no video could be classified: {_naming(*result.failed[0])}{more}")
    for clip, why in result.failed:
        print(f"{args._prog}: warning: skipped {_naming(clip, why)}", file=sys.stderr)
    rows = [
        {
            "video": prediction.clip.describe(),
            "labels": [
                {"label": entry.label, "score": entry.score, "similarity": entry.similarity}
                for entry in prediction.labels
            ],
        }
        for prediction in result.predictions
    ]
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        print()
    else:
        for row in rows:
            print(row["video"])
            for rank, entry in enumerate(row["labels"], start=1):
                print(f"  {rank}. {entry['score']:.4f}  (cos {entry['similarity']:+.4f})  {entry['label']}")
    return 0


def _naming(clip, why: str) -> str:
    return why if clip.path in why else f"{clip.path}: {why}"
