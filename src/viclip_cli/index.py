"""Build a vector index (FAISS) from an embedding dataset made by `viclip embed`, for `viclip search --index`.

--kind auto is exact inner product (IndexFlatIP) up to 1M vectors and HNSW beyond; exact, ivf and hnsw force one.
"""

from __future__ import annotations

import argparse

from .options import require_dir

HELP = "build a FAISS vector index from `viclip embed` output"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--embeddings", required=True, metavar="DIR", help="the folder written by viclip embed"
    )
    parser.add_argument("--output-dir", required=True, metavar="DIR", help="the index folder to write")
    parser.add_argument(
        "--kind", choices=["auto", "exact", "ivf", "hnsw"], default="auto", help="index type (default: auto)"
    )


def run(args: argparse.Namespace) -> int:
    require_dir(args.embeddings, "--embeddings")

    from viclip.embedding import VectorIndex

    index = VectorIndex.from_embeddings(args.embeddings, kind=args.kind)
    index.save(args.output_dir)
    print(f"{len(index)} clips, {index.kind} index ({index.dim}-d) -> {args.output_dir}")
    return 0
