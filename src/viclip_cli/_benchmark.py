"""What ``viclip evaluate kinetics`` and ``viclip evaluate msrvtt`` share: the checks of their inputs and outputs,
model loading, the run (evaluate, write, plot) and the summary."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .base import CommandError
from .options import (
    check_model_reference,
    check_output_file,
    command_dtype,
    positive_int,
    require_dir,
    require_file,
    resolve_device,
)

# The benchmark of one command: (embedder, batch_size=, num_workers=, progress=, model_name=) -> results.
Evaluate = Callable[..., dict[str, Any]]


def add_data_arguments(
    parser: argparse.ArgumentParser, listing_flag: str, listing_help: str, video_root_help: str
) -> argparse._ArgumentGroup:
    """The "data" group of a benchmark command: its listing (a CSV) and ``--video-root``; returned for more flags."""
    data = parser.add_argument_group("data")
    data.add_argument(listing_flag, required=True, metavar="CSV", help=listing_help)
    data.add_argument("--video-root", required=True, metavar="DIR", help=video_root_help)
    return data


def add_run_arguments(parser: argparse.ArgumentParser, *, plot: bool) -> None:
    """``--num-workers`` and the output flags of both benchmark commands (``--plot`` where there is a plot)."""
    parser.add_argument(
        "--num-workers",
        type=positive_int,
        default=None,
        metavar="N",
        help="decoding threads (default: the number of CPUs, at most 8)",
    )
    output = parser.add_argument_group("output")
    output.add_argument("--output", metavar="JSON", help="write the results JSON here")
    if plot:
        output.add_argument("--plot", metavar="PNG", help="write a per-class accuracy plot here")
    output.add_argument("--quiet", action="store_true", help="no progress bar")


def check_output_paths(args: argparse.Namespace) -> None:
    """Usage errors for an ``--output``/``--plot`` that cannot be written (a folder, under a file, in a folder that
    cannot be made), before any video is embedded."""
    for flag in ("output", "plot"):
        check_output_file(getattr(args, flag, None), f"--{flag}")


def checked_inputs(args: argparse.Namespace, listing_flag: str) -> tuple[Path, Path]:
    """The listing file (``--annotations``, ``--csv``) and ``--video-root``, after the output paths and the model
    reference are checked: every usage error comes before the model is loaded."""
    check_output_paths(args)
    listing = require_file(getattr(args, listing_flag.removeprefix("--")), listing_flag)
    video_root = require_dir(args.video_root, "--video-root")
    check_model_reference(str(args.model))
    return listing, video_root


def run_benchmark(
    args: argparse.Namespace,
    evaluate: Evaluate,
    data: dict[str, str],
    plot: Callable[[dict[str, Any], str], Any] | None = None,
) -> int:
    """Load ``--model``, evaluate it, add ``data`` (what was read) to the results, write ``--output`` and the plot
    (when something was evaluated), print the summary."""
    from viclip.evaluation.benchmarks import write_results

    results = evaluate(
        load_model(args),
        batch_size=args.batch_size,
        num_workers=args.num_workers,
        progress=not args.quiet,
        model_name=args.model,
    )
    results["data"].update(data)
    if args.output:
        write_results(results, args.output)
    if plot is not None and args.plot and results["data"]["num_evaluated"]:
        plot(results, args.plot)
    print_summary(results, args)
    return 0


def load_model(args: argparse.Namespace):
    """The benchmark embedder of ``--model`` (ViCLIP, or a CLIPModel whose frames are averaged)."""
    model = check_model_reference(str(args.model))
    device = resolve_device(args.device)
    import torch

    from viclip.inference import load_embedder

    try:
        return load_embedder(model, device=device, dtype=getattr(torch, command_dtype(args, device)))
    except OSError as error:
        first_line = next((line for line in str(error).splitlines() if line.strip()), type(error).__name__)
        raise CommandError(f"could not load --model {model!r}: {first_line}") from None


def print_summary(results: dict[str, Any], args: argparse.Namespace) -> None:
    """The headline numbers, the coverage of the split and where the files went."""
    from viclip.evaluation.benchmarks import results_table_rows

    model = results["model"]
    print(f"{results['benchmark']}: {model['name']} ({model['kind']})")
    for what, value in results_table_rows(results):
        print(f"  {what}: {value}")
    data = results["data"]
    skipped = data["num_missing"] + data["num_undecodable"]
    if skipped:
        print(f"  skipped {data['num_missing']} missing and {data['num_undecodable']} undecodable video(s)")
    if getattr(args, "output", None):
        print(f"results written to {args.output}")
    if getattr(args, "plot", None):
        print(
            f"plot written to {args.plot}"
            if data.get("num_evaluated", 1)
            else "no plot: nothing was evaluated"
        )
