"""``viclip convert``: a released ViCLIP checkpoint -> a Hugging Face folder (also ``hub_scripts/convert_original_to_hf.py``)."""

from __future__ import annotations

import argparse
import sys

from .errors import ConversionError


def build_parser(prog: str = "viclip convert") -> argparse.ArgumentParser:
    from ..model_card import RELEASES

    parser = argparse.ArgumentParser(
        prog=prog,
        description="Convert an original ViCLIP checkpoint (.pth in any layout, or an -hf model.safetensors) into a "
        "folder that AutoModel/AutoProcessor load, with the viclip package or through trust_remote_code.",
    )
    parser.add_argument("--checkpoint", required=True, help="the .pth / .safetensors file (or an -hf folder)")
    parser.add_argument(
        "--output-dir", required=True, help="folder to create (must not exist unless --force)"
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        "--size", choices=["l", "b"], help="ViCLIP-L/14 or B/16 (default: detected from the shapes)"
    )
    size.add_argument("--config", help="a ViCLIPConfig JSON, for any other size")
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"],
                        help="stored weight dtype (default: float32, the releases' precision)")  # fmt: skip
    parser.add_argument(
        "--max-shard-size", default="2GB", help="shard the weights above this size (default 2GB)"
    )
    parser.add_argument("--force", action="store_true", help="replace an existing output folder")
    parser.add_argument("--verify", action="store_true",
                        help="reload the folder (with viclip, and with trust_remote_code in a process without it) "
                        "and check its outputs equal the converted model's")  # fmt: skip
    parser.add_argument("--release", choices=[*sorted(RELEASES), "none"],
                        help="which released checkpoint this is, for the model card (default: guessed from the file "
                        "name)")  # fmt: skip
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def main(argv: list[str] | None = None, prog: str = "viclip convert") -> int:
    """Runs the conversion; errors are one line on stderr and exit status 1 (2 for bad arguments)."""
    args = build_parser(prog).parse_args(argv)
    from .converter import convert_checkpoint

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
            progress=not args.quiet,
        )
    except ConversionError as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{prog}: interrupted; nothing was written", file=sys.stderr)
        return 130
    size = result.preset or "custom config"
    release = f", {result.release.title}" if result.release else ""
    print(
        f"converted {args.checkpoint} ({result.layout}, {size}{release}, {result.num_parameters:,} parameters) "
        f"-> {result.output_dir} in {result.seconds:.1f} s: {', '.join(result.files)}"
    )
    if result.verification is not None:
        print(f"verified: {result.verification.summary()}")
    return 0
