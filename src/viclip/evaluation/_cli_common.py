"""Helpers shared by the ``viclip classify|search|evaluate`` commands."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from pathlib import Path

import torch

DTYPES = {
    "float32": torch.float32,
    "fp32": torch.float32,
    "bfloat16": torch.bfloat16,
    "bf16": torch.bfloat16,
    "float16": torch.float16,
    "fp16": torch.float16,
}


class CliError(Exception):
    """A user error: printed as one line, exit status 2."""


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("model")
    group.add_argument(
        "--model",
        required=True,
        metavar="PATH",
        help="a saved ViCLIP folder (from `viclip convert` or save_pretrained) or a Hub model id",
    )
    group.add_argument(
        "--device", default=None, help="torch device, e.g. cpu, cuda, cuda:1 (default: cuda if available)"
    )
    group.add_argument(
        "--dtype", default="float32", choices=sorted(DTYPES), help="model weights dtype (default: float32)"
    )
    group.add_argument(
        "--batch-size", type=int, default=8, metavar="N", help="videos per forward pass (default: 8)"
    )
    group.add_argument(
        "--sampling",
        default=None,
        choices=["middle", "demo"],
        help="frame sampling: middle = the paper's evaluation (default of the processor), demo = the original demo",
    )


def load_encoder(args: argparse.Namespace):
    from .embedder import VideoTextEmbedder

    model = str(args.model)
    path = Path(model)
    if path.exists():
        if not (path / "config.json").is_file():
            raise CliError(
                f"--model {model!r} is not a saved ViCLIP folder (no config.json); convert a released checkpoint "
                "first with `viclip convert`"
            )
    elif not re.fullmatch(r"[\w.-]+/[\w.-]+", model):
        raise CliError(f"--model {model!r}: no such folder")
    if args.batch_size < 1:
        raise CliError(f"--batch-size must be at least 1, got {args.batch_size}")
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return VideoTextEmbedder.from_pretrained(
            model, device=device, dtype=DTYPES[args.dtype], sampling=args.sampling
        )
    except OSError as err:
        raise CliError(f"could not load --model {model!r}: {str(err).splitlines()[0]}") from None


def read_labels(labels: str | None, labels_file: str | None) -> list[str]:
    """``--labels "a,b,c"`` or ``--labels-file`` (one label per line)."""
    if labels_file is not None:
        path = Path(labels_file)
        if not path.is_file():
            raise CliError(f"--labels-file {labels_file!r} does not exist")
        names = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    elif labels is not None:
        names = [name.strip() for name in labels.split(",")]
    else:
        return []
    names = [n for n in names if n]
    if len(set(names)) != len(names):
        duplicates = sorted({n for n in names if names.count(n) > 1})
        raise CliError(f"duplicate labels: {duplicates}")
    return names


def run_cli(prog: str, body: Callable[[], int]) -> int:
    """Run ``body``; turn expected failures into one line on stderr and a non-zero exit."""
    from viclip import VideoDecodeError

    try:
        return body()
    except CliError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 2
    except (VideoDecodeError, FileNotFoundError, ValueError) as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
