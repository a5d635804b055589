"""Output of the ``viclip evaluate`` commands: results JSON (atomic) and a metrics table with "n/a"."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .options import add_quiet_argument, check_output_dir, check_output_file


def add_report_arguments(parser: argparse.ArgumentParser, *, plot_help: str) -> None:
    """``--output``, ``--plot``, ``--cache``, ``--quiet``."""
    output = parser.add_argument_group("output")
    output.add_argument("--output", metavar="JSON", help="write the results JSON here (default: print it)")
    output.add_argument("--plot", metavar="PNG", help=plot_help)
    output.add_argument(
        "--cache",
        metavar="DIR",
        help="video embedding folder, reused across runs (viclip embed's format: viclip index reads it)",
    )
    add_quiet_argument(output)


def check_report_paths(args: argparse.Namespace) -> None:
    """Usage errors for an output or plot path that is a folder, or a cache folder that is a file, before any work
    is done."""
    for flag in ("output", "plot"):
        check_output_file(getattr(args, flag), f"--{flag}")
    if args.cache:
        check_output_dir(args.cache, "--cache")


def run_task(
    args: argparse.Namespace, task: str, listing: Path, evaluate: Callable[..., dict[str, Any]]
) -> int:
    """Load ``--model``, run ``evaluate(embedder, batch_size=, cache_path=, plot_path=, progress=)`` and emit its
    results under the task's name, the list and the model."""
    from .options import load_embedder

    results = evaluate(
        load_embedder(args),
        batch_size=args.batch_size,
        cache_path=args.cache,
        plot_path=args.plot,
        progress=not args.quiet,
    )
    emit_results({"task": task, "list": str(listing), "model": str(args.model), **results}, args)
    return 0


def metrics_table(results: Mapping[str, Any]) -> str:
    """The scalar metrics of ``results``, one per line; a metric that does not apply (``None``) is "n/a"."""
    rows = [(key, value) for key, value in results.items() if isinstance(value, float) or value is None]
    width = max((len(key) for key, _ in rows), default=0)
    return "\n".join(f"{key:<{width}}  {'n/a' if value is None else f'{value:.2f}'}" for key, value in rows)


def emit_results(results: dict[str, Any], args: argparse.Namespace) -> None:
    """With ``--output``: write the JSON there and print the metrics table; else print the JSON (null = n/a)."""
    if args.output:
        from viclip.evaluation.tasks import write_json

        write_json(results, args.output)
        print(metrics_table(results))
        print(f"results written to {args.output}")
    else:
        json.dump(results, sys.stdout, indent=2)
        print()
