"""Flags and checks shared by several commands: one spelling of each flag, one message for each mistake."""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

from .base import UsageError

DTYPE_NAMES = ("float32", "bfloat16", "float16")
_DTYPE_ALIASES = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}


def add_model_arguments(parser: argparse.ArgumentParser, *, batch_size: int = 8) -> None:
    """``--model``, ``--device``, ``--dtype``, ``--batch-size``."""
    group = parser.add_argument_group("model")
    group.add_argument(
        "--model",
        required=True,
        metavar="PATH_OR_ID",
        help="a saved ViCLIP folder (from `viclip convert`, `viclip train`, save_pretrained) or a Hub model id",
    )
    group.add_argument("--device", default=None, help="torch device: cpu, cuda, cuda:1 (default: cuda if available)")
    group.add_argument(
        "--dtype",
        default="float32",
        type=parse_dtype_name,
        metavar="{float32,bfloat16,float16}",
        help="compute dtype (bf16/fp16/fp32 accepted; default: float32)",
    )
    group.add_argument(
        "--batch-size",
        type=positive_int,
        default=batch_size,
        metavar="N",
        help=f"videos per forward pass (default: {batch_size})",
    )


def parse_dtype_name(value: str) -> str:
    name = _DTYPE_ALIASES.get(value.lower(), value.lower())
    if name not in DTYPE_NAMES:
        raise argparse.ArgumentTypeError(f"unknown dtype {value!r}; choose float32, bfloat16 or float16")
    return name


def positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def resolve_device(name: str | None) -> str:
    """The device to run on: ``cuda`` when available by default; a clear usage error for one that does not exist."""
    import torch

    if name is None:
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        raise UsageError(f"--device {name!r} is not a device; use cpu, cuda or cuda:N") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise UsageError(f"--device {name!r}: no CUDA GPU is available here; use --device cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise UsageError(f"--device {name!r}: only {torch.cuda.device_count()} CUDA device(s) here")
    elif device.type == "mps":
        if not torch.backends.mps.is_available():
            raise UsageError(f"--device {name!r}: MPS is not available here; use --device cpu")
    elif device.type != "cpu":
        raise UsageError(f"--device {name!r} is not supported; use cpu, cuda or cuda:N")
    return str(device)


def check_model_reference(model: str) -> str:
    """A saved folder (with config.json) or a Hub id; usage errors for anything else."""
    path = Path(model)
    if path.exists():
        if not path.is_dir() or not (path / "config.json").is_file():
            raise UsageError(
                f"--model {model!r} is not a saved model folder (no config.json); convert a released "
                "checkpoint first with `viclip convert`"
            )
    elif not re.fullmatch(r"[\w.-]+(/[\w.-]+)?", model):
        raise UsageError(f"--model {model!r}: no such folder")
    return model


def require_file(path: str | os.PathLike, what: str = "file") -> Path:
    """``path`` as a ``Path`` if it is an existing file; a usage error saying what it is otherwise."""
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{what} {str(path)!r} is a directory, not a file")
    if not path.exists():
        raise UsageError(f"{what} {str(path)!r} does not exist")
    if not path.is_file():
        raise UsageError(f"{what} {str(path)!r} is not a regular file")
    return path


def require_dir(path: str | os.PathLike, what: str = "folder") -> Path:
    path = Path(path)
    if not path.exists():
        raise UsageError(f"{what} {str(path)!r} does not exist")
    if not path.is_dir():
        raise UsageError(f"{what} {str(path)!r} is a file, not a folder")
    return path
