"""Flags and checks shared by several commands: one spelling of each flag, one message for each mistake."""

from __future__ import annotations

import argparse
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

from .base import CommandError, UsageError

DTYPE_NAMES = ("auto", "float32", "bfloat16", "float16")
_DTYPE_ALIASES = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}


def add_model_arguments(parser: argparse.ArgumentParser, *, batch_size: int = 8) -> argparse._ArgumentGroup:
    """``--model``, ``--device``, ``--dtype``, ``--batch-size``; returns the group for more model flags."""
    group = parser.add_argument_group("model")
    group.add_argument(
        "--model",
        required=True,
        metavar="PATH_OR_ID",
        help="a saved ViCLIP folder (from `viclip convert`, `viclip train`, save_pretrained) or a Hub model id",
    )
    group.add_argument(
        "--device", default=None, help="torch device: cpu, cuda, cuda:1 (default: cuda if available)"
    )
    group.add_argument(
        "--dtype",
        default="auto",
        type=parse_dtype_name,
        metavar="{auto,float32,bfloat16,float16}",
        help="compute dtype (bf16/fp16/fp32 accepted); auto (default): bfloat16 on a GPU or CPU that computes "
        "it natively (CPU: AMX or AVX512-BF16), float32 elsewhere (bf16 emulated on an AVX2 CPU is ~6x slower); "
        "the command says which ran and why",
    )
    group.add_argument(
        "--batch-size",
        type=positive_int,
        default=batch_size,
        metavar="N",
        help=f"videos per forward pass (default: {batch_size})",
    )
    return group


def add_embedder_arguments(parser: argparse.ArgumentParser, *, batch_size: int = 8) -> None:
    """The model flags plus ``--sampling``: what :func:`load_embedder` reads."""
    group = add_model_arguments(parser, batch_size=batch_size)
    group.add_argument(
        "--sampling",
        default=None,
        choices=["middle", "demo"],
        help="frame sampling: middle = the paper's evaluation (the processor's default), demo = the original demo",
    )


def add_quiet_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


# read_video_clip's DEFAULT_DECODE_TIMEOUT and DEFAULT_MAX_PIXELS, written out: --help must not import the library.
DECODE_TIMEOUT, MAX_PIXELS = 120.0, 8192 * 8192


def add_decode_limit_arguments(parser: argparse.ArgumentParser) -> None:
    """``--decode-timeout`` and ``--max-pixels``: the most one hostile video may cost a long job."""
    group = parser.add_argument_group("hostile videos")
    group.add_argument(
        "--decode-timeout",
        type=positive_seconds,
        default=DECODE_TIMEOUT,
        metavar="SEC",
        help="a video not decoded within SEC seconds is listed as failed and the job goes on (120)",
    )
    group.add_argument(
        "--max-pixels",
        type=frame_pixels,
        default=MAX_PIXELS,
        metavar="WxH|N",
        help="videos whose frames have more pixels are refused from their header, before decoding (8192x8192)",
    )


ENGINES = ("auto", "local", "ray")


def add_engine_arguments(parser: argparse.ArgumentParser) -> None:
    """``--engine``, ``--ray-address``, ``--num-gpus``, ``--num-cpu-actors``, ``--cpus-per-actor``: where a batch
    job's decoding and model run (read back with :func:`engine_options`); ``--optimize``: how the model runs."""
    group = parser.add_argument_group("engine")
    group.add_argument(
        "--engine",
        choices=ENGINES,
        default="auto",
        help="local: this process; ray: decoding tasks and model actors on Ray Data; auto (default): the faster "
        "here (in process on one machine without a GPU and under 8 cores, or for under 64 clips; else Ray); "
        "the summary says which and why",
    )
    group.add_argument(
        "--ray-address", default=None, metavar="ADDR", help="a Ray cluster to run on (default: a local one)"
    )
    group.add_argument(
        "--num-gpus", type=int, default=0, metavar="N", help="model actors, one per GPU (default: 0, CPU)"
    )
    group.add_argument(
        "--num-cpu-actors", type=positive_int, default=1, metavar="N", help="CPU model actors without GPUs"
    )
    group.add_argument(
        "--cpus-per-actor",
        type=positive_int,
        default=None,
        metavar="N",
        help="CPUs (torch threads) of each model actor on Ray; the CPUs left over decode (default: half the "
        "cores without GPUs, 1 with)",
    )
    group.add_argument(
        "--optimize",
        choices=["none", "compile", "openvino", "onnx-int8"],
        default="none",
        help="none (default): the model in torch, in --dtype. compile: torch.compile the video tower, "
        "for a GPU or a CPU with native bf16 (AMX, AVX512-BF16: about 1.4x with bf16 on an AMX Xeon; 0.86x in "
        "float32 on an AVX2-only EPYC); each job compiles once, for 30-60 s, so it pays off on long jobs only. "
        "onnx-int8: the video tower in int8 on ONNX Runtime (cosine >= 0.999 to float32), for CPUs without "
        "native bf16 (2.0-2.1x torch float32 for B/16 and L/14 on an AVX-512 VNNI EPYC; AVX2-only CPUs not "
        "measured yet). "
        "openvino: the video tower in float32 on OpenVINO, same embedding, for CPUs without native bf16 (1.15x "
        "on an AVX-512 EPYC). Both CPU runtimes export the tower once per model, cached under $VICLIP_CACHE or "
        "$HF_HOME/viclip, and need pip install 'viclip[cpu]'; figures per CPU kind: docs/cpu.md",
    )


def engine_options(args: argparse.Namespace) -> dict[str, object]:
    """The engine flags, checked, as the keywords of ``embed_videos`` and
    :func:`viclip.inference.engine_choice.choose_engine_settings`: ``engine`` (``None`` for auto),
    ``ray_address``, ``num_gpus``, ``num_cpu_actors``, ``cpus_per_actor``."""
    if args.num_gpus < 0:
        raise UsageError(f"--num-gpus must be 0 or more, got {args.num_gpus}")
    if args.engine == "local" and (args.ray_address or args.num_gpus):
        raise UsageError("--engine local runs in this process: drop --ray-address/--num-gpus")
    if getattr(args, "optimize", None) in ("openvino", "onnx-int8"):
        check_cpu_runtime(args)
    return {
        "engine": None if args.engine == "auto" else args.engine,
        "ray_address": args.ray_address,
        "num_gpus": args.num_gpus,
        "num_cpu_actors": args.num_cpu_actors,
        "cpus_per_actor": args.cpus_per_actor,
    }


def positive_seconds(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if not number > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return number


def frame_pixels(value: str) -> int:
    """``8192x8192`` or ``67108864``: a number of pixels per frame."""
    width, _, height = value.lower().partition("x")
    try:
        pixels = int(width) * int(height) if height else int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not WIDTHxHEIGHT or a number of pixels") from None
    if pixels < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 pixel, got {value}")
    return pixels


def load_embedder(args: argparse.Namespace):
    """The :class:`~viclip.inference.VideoTextEmbedder` of ``--model`` on ``--device`` in ``--dtype``.

    The model reference and the device are checked first (usage errors); a folder that fails to load is
    one line naming it.
    """
    model = check_model_reference(str(args.model))
    device = resolve_device(args.device)
    import torch

    from viclip.inference import VideoTextEmbedder

    if getattr(args, "quiet", False):
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
    try:
        return VideoTextEmbedder.from_pretrained(
            model, device=device, dtype=getattr(torch, command_dtype(args, device)), sampling=args.sampling
        )
    except OSError as error:
        first_line = next((line for line in str(error).splitlines() if line.strip()), type(error).__name__)
        raise CommandError(f"could not load --model {model!r}: {first_line}") from None


def parse_dtype_name(value: str) -> str:
    name = _DTYPE_ALIASES.get(value.lower(), value.lower())
    if name not in DTYPE_NAMES:
        raise argparse.ArgumentTypeError(
            f"unknown dtype {value!r}; choose auto, float32, bfloat16 or float16"
        )
    return name


def check_cpu_runtime(args: argparse.Namespace) -> None:
    """``--optimize openvino``/``onnx-int8`` need the ``cpu`` extra and the CPU: one line saying so, before any
    work."""
    from viclip.inference.export_cache import missing_runtime

    message = missing_runtime(args.optimize)
    if message is not None:
        raise UsageError(message)
    if args.num_gpus or (args.device and not str(args.device).startswith("cpu")):
        raise UsageError(f"--optimize {args.optimize} runs the model on the CPU: drop --device/--num-gpus")


def command_dtype(args: argparse.Namespace, device: str | None) -> str:
    """``--dtype`` on ``device`` with ``auto`` resolved; the choice and its reason go to stderr (one line,
    not with ``--quiet``)."""
    import sys

    from viclip.inference.dtype_choice import choose_dtype

    choice = choose_dtype(args.dtype, device)
    if args.dtype == "auto" and not getattr(args, "quiet", False):
        print(f"{getattr(args, '_prog', 'viclip')}: {choice.summary()}", file=sys.stderr)
    return choice.dtype


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


def check_output_file(path: str | os.PathLike | None, flag: str = "--output") -> Path | None:
    """An output file that can be written, checked before any work: not a folder, and its folder exists or can
    be made there (``None`` passes through). A usage error naming it otherwise."""
    if path is None:
        return None
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{flag} {str(path)!r} is a folder; give a file name")
    _check_can_create(path, flag, path.absolute().parents)
    return path


def check_output_dir(
    path: str | os.PathLike, flag: str = "--output-dir", *, force: bool | None = None
) -> Path:
    """An output folder that is a folder or can be made one, checked before any work.

    Args:
        force: ``None`` for a command that resumes into an existing folder; otherwise an existing non-empty
            folder is refused unless ``force`` (the command replaces it).
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UsageError(f"{flag} {str(path)!r} is a file, not a folder")
    if force is False and path.is_dir() and any(path.iterdir()):
        raise UsageError(f"{flag} {str(path)!r} already exists and is not empty; pass --force to replace it")
    _check_can_create(path, flag, (path.absolute(), *path.absolute().parents))
    return path


def _check_can_create(path: Path, flag: str, candidates: Iterable[Path]) -> None:
    """``path`` can be created: the first existing folder of ``candidates`` (the path's ancestors) is one we can
    write in (tried with a scratch file, removed at once: permission bits say nothing for root, nor for /proc or
    a read-only mount)."""
    ancestor = next(candidate for candidate in candidates if candidate.exists())
    if not ancestor.is_dir():
        raise UsageError(f"{flag} {str(path)!r}: {str(ancestor)!r} is a file, not a folder")
    try:
        handle, scratch = tempfile.mkstemp(prefix=".viclip-write-check-", dir=ancestor)
    except OSError as error:
        raise UsageError(
            f"{flag} {str(path)!r} cannot be created: {str(ancestor)!r} is not writable ({error.strerror})"
        ) from None
    os.close(handle)
    os.unlink(scratch)
