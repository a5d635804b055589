"""Search videos by text (text-to-moment) or by an example video: a folder, or a vector index.

`viclip search FOLDER --model DIR ...` embeds the folder's videos once, with a progress bar, into an embedding
dataset (FOLDER/.viclip-embeddings/ by default) reused on the next run and updated when files are added or
change; a video that cannot be read is skipped and reported. `viclip search --index DIR ...` searches an index
made by `viclip embed` + `viclip index` (millions of clips; windows give the moment: start and end seconds); its
model is the one that made the embeddings unless --model says otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .base import UsageError
from .options import (
    add_embedder_arguments,
    add_quiet_argument,
    check_output_dir,
    load_embedder,
    positive_int,
    require_dir,
    require_file,
)

EXTRA = "embed"
HELP = "text-to-video / text-to-moment search over a folder of videos or a vector index"
DEFAULT_CACHE_NAME = ".viclip-embeddings"
EPILOG = (
    'examples: viclip search clips/ --model ./viclip-b16 --text "a dog in the snow"\n'
    "          viclip search clips/ --model ./viclip-b16 --video query.mp4 --top-k 3\n"
    '          viclip search --index index/ --text "a goal is scored" --top-k 10'
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.add_argument(
        "folder", nargs="?", help="folder of videos (searched recursively) or a single video file"
    )
    parser.add_argument(
        "--index", default=None, metavar="DIR", help="a vector index folder (from viclip index)"
    )
    query = parser.add_argument_group("query (one kind)")
    query.add_argument(
        "--text", action="append", default=[], metavar="QUERY", help="a text query (repeat for several)"
    )
    query.add_argument(
        "--video", action="append", default=[], metavar="FILE", help="a query video file (repeat for several)"
    )
    cache = parser.add_argument_group("folder cache")
    cache.add_argument(
        "--cache",
        default=None,
        metavar="DIR",
        help=f"embedding dataset folder (default: FOLDER/{DEFAULT_CACHE_NAME})",
    )
    cache.add_argument("--no-cache", action="store_true", help="embed every video again and keep nothing")
    add_embedder_arguments(parser)
    for action in parser._actions:
        if action.dest == "model":  # an index knows the model that made it
            action.required = False
            action.help += " (default with --index: the model of the index)"
    output = parser.add_argument_group("output")
    output.add_argument(
        "--top-k", type=positive_int, default=5, metavar="K", help="results per query (default: 5)"
    )
    output.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_quiet_argument(output)


def run(args: argparse.Namespace) -> int:
    from viclip.processing import VideoClip

    if bool(args.text) == bool(args.video):
        raise UsageError("give text queries (--text) or query videos (--video), one kind")
    if (args.folder is None) == (args.index is None):
        raise UsageError("search a FOLDER or an --index, one of them")
    queries = [VideoClip(str(require_file(path, "query video"))) for path in args.video]
    if args.index is not None:
        from viclip.embedding import VectorIndex

        index = VectorIndex.load(require_dir(args.index, "--index"))
        if args.model is None:
            args.model = index.info.get("model")
            if not args.model:
                raise UsageError(f"--index {args.index!r} does not name its model; give --model")
        summary = f"{len(index)} clips ({index.kind} index)"
    else:
        if args.model is None:
            raise UsageError("searching a folder needs --model")
        folder = Path(args.folder)
        if not folder.exists():
            raise UsageError(f"video folder {args.folder!r} does not exist")
        if args.cache:
            check_output_dir(args.cache, "--cache")
    embedder = load_embedder(args)
    if args.index is None:
        from viclip.embedding import index_folder

        searched = index_folder(
            embedder,
            folder,
            args.cache,
            use_cache=not args.no_cache,
            batch_size=args.batch_size,
            progress=not args.quiet,
        )
        for failure in searched.failed:
            print(f"{args._prog}: warning: skipped {failure.describe()}: {failure.error}", file=sys.stderr)
        index, result = searched.index, searched.result
        summary = f"{len(index)} videos ({result.num_embedded} embedded, {result.num_reused} from cache)"
    if args.text:
        labels, hits = args.text, index.search_text(embedder, args.text, args.top_k)
    else:
        labels, hits = args.video, index.search_video(embedder, queries, args.top_k)
    results = [
        {"query": query, "results": [hit.to_dict() for hit in row]} for query, row in zip(labels, hits)
    ]
    if args.json:
        report = {"results": results}
        if args.index is None:
            report["cache"] = {"computed": result.num_embedded, "reused": result.num_reused}
        json.dump(report, sys.stdout, indent=2)
        print()
        return 0
    print(summary)
    for result in results:
        print(f"query: {result['query']}")
        for hit in result["results"]:
            moment = "" if hit["start_sec"] is None else f"  [{hit['start_sec']:g}s-{hit['end_sec']:g}s]"
            print(f"  {hit['rank']}. {hit['score']:+.4f}  {hit['path']}{moment}")
    return 0
