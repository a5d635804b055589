"""Convert an original ViCLIP checkpoint (.pth in any layout, an -hf model.safetensors, or a folder saved by this
library) into a complete Hub folder that AutoModel/AutoProcessor load, with the viclip package or through
trust_remote_code.

example: viclip convert --checkpoint ViClip-InternVid-10M-FLT.pth --output-dir ViCLIP-L-14-10M-FLT --verify"""

from __future__ import annotations

import argparse

from .base import CommandError, UsageError
from .options import DTYPE_NAMES, check_output_dir

EXTRA = None
HELP = "convert a released .pth checkpoint (or a saved folder) into a complete Hub folder"

# The released checkpoints the model card can name; kept here as names so --help needs no import of the library.
RELEASE_NAMES = (
    "b16-internvid-10m-flt",
    "b16-internvid-200m",
    "l14-internvid-10m",
    "l14-internvid-10m-div",
    "l14-internvid-10m-flt",
    "l14-internvid-200m",
    "l14-internvid-50m",
    "l14-webvid-10m",
    "none",
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--checkpoint",
        required=True,
        help="the .pth / .safetensors file, an -hf folder or a saved ViCLIP folder",
    )
    parser.add_argument(
        "--output-dir", required=True, help="folder to create (must not exist unless --force)"
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        "--size", choices=["l", "b"], help="ViCLIP-L/14 or B/16 (default: detected from the shapes)"
    )
    size.add_argument(
        "--config",
        help="a ViCLIPConfig JSON (a saved config.json) or the original code's model arguments (vision_width, "
        "vision_layers, ..., embed_dim), for any other size",
    )
    parser.add_argument(
        "--dtype",
        default="float32",
        choices=DTYPE_NAMES,
        help="stored weight dtype (default: float32, the releases' precision)",
    )
    parser.add_argument(
        "--max-shard-size", default="2GB", help="shard the weights above this size (default 2GB)"
    )
    parser.add_argument("--force", action="store_true", help="replace an existing output folder")
    parser.add_argument(
        "--verify",
        action="store_true",
        help="reload the folder (with viclip, and with trust_remote_code in a process without it) and check its "
        "outputs equal the converted model's",
    )
    parser.add_argument(
        "--release",
        choices=RELEASE_NAMES,
        help="which released checkpoint this is, for the model card (default: guessed from the file name)",
    )
    parser.add_argument(
        "--results",
        action="append",
        default=[],
        metavar="FILE.json",
        help="a results file of `viclip evaluate kinetics|msrvtt --output` measured on this model: its table goes "
        "into the model card (repeatable)",
    )
    parser.add_argument(
        "--allow-vocab-mismatch",
        action="store_true",
        help="convert a model whose text vocabulary the bundled CLIP tokenizer does not fit (a test checkpoint "
        "fed token ids directly); refused without it",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def evaluation_tables(paths: list[str]) -> list[str]:
    """The Markdown tables of ``--results`` files (shared with `viclip push`)."""
    from viclip.evaluation.benchmarks import read_results, results_markdown_table

    from .options import require_file

    tables = []
    for path in paths:
        require_file(path, "--results")
        try:
            tables.append(results_markdown_table(read_results(path)))
        except ValueError as error:
            raise UsageError(str(error)) from None
    return tables


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    if not Path(args.checkpoint).exists():
        raise UsageError(f"checkpoint {args.checkpoint!r} does not exist")
    if args.config is not None and not Path(args.config).is_file():
        raise UsageError(f"--config {args.config!r} is not a file")

    check_output_dir(args.output_dir, force=args.force)
    tables = evaluation_tables(args.results)

    from viclip.conversion import ConversionError, VerificationError, convert_checkpoint

    try:
        result = convert_checkpoint(
            args.checkpoint,
            args.output_dir,
            size=args.size,
            config=args.config,
            dtype=args.dtype,
            max_shard_size=args.max_shard_size,
            force=args.force,
            verify=args.verify,
            release=args.release,
            evaluation_tables=tables,
            progress=not args.quiet,
            allow_vocab_mismatch=args.allow_vocab_mismatch,
        )
    except VerificationError as error:  # the folder was written but does not reproduce the model
        raise CommandError(str(error)) from None
    except ConversionError as error:  # the checkpoint, the config or the output folder given is wrong
        raise UsageError(str(error)) from None
    size = result.preset or "custom config"
    release = f", {result.release.title}" if result.release else ""
    print(
        f"converted {args.checkpoint} ({result.layout}, {size}{release}, {result.num_parameters:,} parameters) "
        f"-> {result.output_dir} in {result.seconds:.1f} s: {', '.join(result.files)}"
    )
    if result.verification is not None:
        print(f"verified: {result.verification.summary()}")
    return 0
