"""``viclip classify``: zero-shot classify video files against free-form labels."""

from __future__ import annotations

import argparse
import json
import os
import sys

from ._cli_common import CliError, add_model_arguments, load_encoder, read_labels, run_cli
from .templates import resolve_templates
from .video_list import VideoItem

PROG = "viclip classify"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Zero-shot classify videos with ViCLIP. Each label is written in prompt templates and its\n"
            "similarity is the mean cosine similarity over the templates (the paper's protocol); scores\n"
            "are softmax(logit_scale * similarity) over the labels."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            'example: viclip classify dog.mp4 --model ./viclip-b16 --labels "playing fetch,cooking,skiing" '
            "--templates single --start 3 --end 8"
        ),
    )
    parser.add_argument("videos", nargs="+", metavar="VIDEO", help="video file(s) to classify")
    labels = parser.add_argument_group("labels")
    labels.add_argument(
        "--labels", metavar='"A,B,C"', help='comma-separated candidate labels, e.g. "dancing,cooking"'
    )
    labels.add_argument("--labels-file", metavar="FILE", help="a text file with one candidate label per line")
    labels.add_argument(
        "--templates",
        default="actionclip",
        metavar="TEMPLATES",
        help='prompt templates: "actionclip" (the paper\'s 16, default), "single" (the bare label), '
        'or one template with {} such as "a video of {}"',
    )
    clip = parser.add_argument_group("clip")
    clip.add_argument(
        "--start", type=float, default=None, metavar="SEC", help="start of the clip in seconds (default: 0)"
    )
    clip.add_argument(
        "--end",
        type=float,
        default=None,
        metavar="SEC",
        help="end of the clip in seconds (default: end of video)",
    )
    add_model_arguments(parser)
    out = parser.add_argument_group("output")
    out.add_argument("--top-k", type=int, default=5, metavar="K", help="labels shown per video (default: 5)")
    out.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def body() -> int:
        names = read_labels(args.labels, args.labels_file)
        if not names:
            raise CliError('no candidate labels: give --labels "a,b,c" or --labels-file FILE')
        templates = resolve_templates(args.templates)
        items = [VideoItem(path, args.start, args.end) for path in args.videos]
        for item in items:
            if not os.path.isfile(item.path):
                raise CliError(f"video file {item.path!r} does not exist")
        encoder = load_encoder(args)
        classifier = encoder.classifier(names, templates)
        results = []
        for start in range(0, len(items), args.batch_size):
            batch = items[start : start + args.batch_size]
            embeds = encoder.encode_videos(batch)
            probs = classifier.probabilities(embeds)
            sims = classifier.scores(embeds)
            for item, prob, sim in zip(batch, probs, sims):
                order = prob.argsort(descending=True, stable=True)[: args.top_k].tolist()
                results.append(
                    {
                        "video": item.describe(),
                        "labels": [
                            {"label": names[i], "score": float(prob[i]), "similarity": float(sim[i])}
                            for i in order
                        ],
                    }
                )
        if args.json:
            json.dump(results, sys.stdout, indent=2)
            print()
        else:
            for result in results:
                print(result["video"])
                for rank, entry in enumerate(result["labels"], start=1):
                    print(
                        f"  {rank}. {entry['score']:.4f}  (cos {entry['similarity']:+.4f})  {entry['label']}"
                    )
        return 0

    return run_cli(PROG, body)


if __name__ == "__main__":
    sys.exit(main())
