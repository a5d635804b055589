"""``viclip evaluate``: zero-shot classification or retrieval metrics on a labelled video list."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ._cli_common import CliError, add_model_arguments, load_encoder, read_labels, run_cli

PROG = "viclip evaluate"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Evaluate ViCLIP zero-shot: classification (top-1, top-5, AVG) or text-video retrieval "
        "(R@1/5/10, median and mean rank, both directions). Writes JSON and, optionally, a PNG plot.",
    )
    tasks = parser.add_subparsers(dest="task", metavar="TASK", required=True)

    cls = tasks.add_parser(
        "classification",
        help="zero-shot top-1/top-5/AVG on a list of labelled videos",
        description="Zero-shot classification. LIST is a CSV/TSV (header: path,start,end,label; start/end "
        "optional, seconds) or JSONL with the same keys. Paths are relative to LIST's folder.",
        epilog="example: viclip evaluate classification k400_val.csv --model ./viclip-l14 --output k400.json "
        "--plot k400_confusion.png",
    )
    cls.add_argument("list", metavar="LIST", help="labelled video list (.csv, .tsv or .jsonl)")
    cls.add_argument(
        "--classes", help="class names, one per line (default: the distinct labels of LIST, sorted)"
    )
    cls.add_argument(
        "--templates",
        default="actionclip",
        help='"actionclip" (the paper\'s 16, default), "single", or a template with {}',
    )

    ret = tasks.add_parser(
        "retrieval",
        help="text-video retrieval R@K and ranks on a captioned video list",
        description="Text-video retrieval. LIST is a CSV/TSV (header: path,start,end,caption) or JSONL where "
        "caption may be a list; a video may have several captions.",
        epilog="example: viclip evaluate retrieval msrvtt_1ka.jsonl --model ./viclip-l14 --dual-softmax --output r.json",
    )
    ret.add_argument("list", metavar="LIST", help="captioned video list (.csv, .tsv or .jsonl)")
    ret.add_argument(
        "--dual-softmax", action="store_true", help="also report dual-softmax re-ranked metrics (dsl_*)"
    )
    ret.add_argument(
        "--temperature", type=float, default=100.0, help="dual-softmax temperature (default: 100)"
    )

    for sub in (cls, ret):
        add_model_arguments(sub)
        out = sub.add_argument_group("output")
        out.add_argument("--output", metavar="JSON", help="write the results JSON here (default: print it)")
        out.add_argument(
            "--plot", metavar="PNG", help="write a PNG (confusion matrix / similarity heat map) here"
        )
        out.add_argument(
            "--cache", metavar="FILE", help="video embedding cache file (safetensors), reused across runs"
        )
        out.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def body() -> int:
        from .tasks import evaluate_classification, evaluate_retrieval, write_json
        from .video_list import read_captioned_videos, read_labelled_videos

        for option in ("output", "plot"):
            target = getattr(args, option)
            if target and Path(target).is_dir():
                raise CliError(f"--{option} {target!r} is a folder; give a file name")
        if args.task == "classification":
            videos = read_labelled_videos(args.list)
            class_names = None
            if args.classes:
                class_names = read_labels(None, args.classes)
                if not class_names:
                    raise CliError(f"--classes {args.classes!r} holds no class names")
            encoder = load_encoder(args)
            results = evaluate_classification(
                encoder,
                videos,
                class_names,
                args.templates,
                args.batch_size,
                args.cache,
                args.plot,
                not args.quiet,
            )
        else:
            gallery = read_captioned_videos(args.list)
            encoder = load_encoder(args)
            results = evaluate_retrieval(
                encoder,
                gallery,
                args.batch_size,
                args.dual_softmax,
                args.temperature,
                args.cache,
                args.plot,
                not args.quiet,
            )
        results = {"task": args.task, "list": str(args.list), "model": str(args.model), **results}
        if args.output:
            write_json(results, args.output)
            summary = {k: v for k, v in results.items() if isinstance(v, float)}
            print(json.dumps(summary, indent=2))
        else:
            print(json.dumps(results, indent=2))
        return 0

    return run_cli(PROG, body)


if __name__ == "__main__":
    sys.exit(main())
