"""Run ViCLIP end to end: synthetic data -> training -> Hub folder -> evaluation -> classification (no download).

With --checkpoint (or $VICLIP_CHECKPOINT) naming a released ViCLIP .pth, convert the real weights instead and run
the original demo: example1.mp4 against its ten captions. Python API: viclip.demo.run_demo.
"""

from __future__ import annotations

import argparse
import os

from .options import add_quiet_argument, check_output_dir, positive_int, require_file

EXTRA = ("train", "eval")
HELP = "run the end-to-end demo (synthetic data, or the real weights)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--output-dir",
        default="demo_output",
        help="where data, model, plots and report go (default: demo_output)",
    )
    parser.add_argument(
        "--steps",
        type=positive_int,
        default=None,
        help="training steps (default: the synthetic_cpu config's)",
    )
    parser.add_argument(
        "--checkpoint",
        default=os.environ.get("VICLIP_CHECKPOINT"),
        help="a released ViCLIP .pth: convert it and run the original demo (default: $VICLIP_CHECKPOINT)",
    )
    add_quiet_argument(parser)


def run(args: argparse.Namespace) -> int:
    from viclip.demo import run_demo

    check_output_dir(args.output_dir)
    checkpoint = require_file(args.checkpoint, "checkpoint") if args.checkpoint else None
    run_demo(args.output_dir, steps=args.steps, checkpoint=checkpoint, progress=not args.quiet)
    return 0
