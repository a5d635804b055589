"""Build a vector index (FAISS) from an embedding dataset made by `viclip embed`, for `viclip search --index`.

--kind auto is exact inner product (IndexFlatIP) up to 1M vectors and HNSW beyond; exact, ivf and hnsw force one.
An existing --output-dir (an index, or any other non-empty folder) is only replaced with --force.
"""

from __future__ import annotations

import argparse

from .base import UsageError
from .options import check_output_dir, require_dir

EXTRA = "embed"
HELP = "build a FAISS vector index from `viclip embed` output"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--embeddings", required=True, metavar="DIR", help="the folder written by viclip embed"
    )
    parser.add_argument(
        "--output-dir",
        required=True,
        metavar="DIR",
        help="the index folder to write (must not exist unless --force)",
    )
    parser.add_argument(
        "--force", action="store_true", help="replace an existing --output-dir and everything in it"
    )
    parser.add_argument(
        "--kind", choices=["auto", "exact", "ivf", "hnsw"], default="auto", help="index type (default: auto)"
    )


def run(args: argparse.Namespace) -> int:
    require_dir(args.embeddings, "--embeddings")
    check_output_dir(args.output_dir)  # a file in the way, or a folder that cannot be made

    from viclip.embedding import VectorIndex
    from viclip.embedding.index import existing_folder_problem

    problem = existing_folder_problem(args.output_dir)
    if problem and not args.force:
        raise UsageError(
            f"--output-dir {args.output_dir!r} {problem}; pass --force to replace it and everything in it"
        )
    index = VectorIndex.from_embeddings(args.embeddings, kind=args.kind)
    index.save(args.output_dir, overwrite=args.force)
    print(f"{len(index)} clips, {index.kind} index ({index.dim}-d) -> {args.output_dir}")
    return 0
