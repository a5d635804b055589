"""Search a folder of videos by text (text-to-video) or by an example video (video-to-video).

Videos are embedded once, with a progress bar, into a safetensors cache that is reused on the next run and
updated when files are added or change. A video that cannot be read is skipped and reported.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .base import UsageError
from .options import add_embedder_arguments, add_quiet_argument, load_embedder, positive_int, require_file

HELP = "text-video retrieval over a folder of videos"
DEFAULT_CACHE_NAME = ".viclip-embeddings.safetensors"
EPILOG = (
    'examples: viclip search clips/ --model ./viclip-b16 --text "a dog in the snow"\n'
    "          viclip search clips/ --model ./viclip-b16 --video query.mp4 --top-k 3"
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.add_argument("folder", help="folder of videos (searched recursively) or a single video file")
    query = parser.add_argument_group("query (one kind)")
    query.add_argument(
        "--text", action="append", default=[], metavar="QUERY", help="a text query (repeat for several)"
    )
    query.add_argument(
        "--video", action="append", default=[], metavar="FILE", help="a query video file (repeat for several)"
    )
    cache = parser.add_argument_group("cache")
    cache.add_argument(
        "--cache",
        default=None,
        metavar="FILE",
        help=f"embedding cache file (default: FOLDER/{DEFAULT_CACHE_NAME})",
    )
    cache.add_argument("--no-cache", action="store_true", help="embed every video again and write no cache")
    add_embedder_arguments(parser)
    output = parser.add_argument_group("output")
    output.add_argument(
        "--top-k", type=positive_int, default=5, metavar="K", help="results per query (default: 5)"
    )
    output.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_quiet_argument(output)


def run(args: argparse.Namespace) -> int:
    from ..evaluation import VideoIndex, list_videos
    from ..processing import VideoClip

    if bool(args.text) == bool(args.video):
        raise UsageError("give text queries (--text) or query videos (--video), one kind")
    queries = [VideoClip(require_file(path, "query video")) for path in args.video]
    folder = Path(args.folder)
    if not folder.exists():
        raise UsageError(f"video folder {args.folder!r} does not exist")
    cache_path = None
    if not args.no_cache:
        cache_path = (
            Path(args.cache)
            if args.cache
            else (folder if folder.is_dir() else folder.parent) / DEFAULT_CACHE_NAME
        )
        if cache_path.is_dir():
            raise UsageError(f"--cache {str(cache_path)!r} is a folder; give a file name")
    items = list_videos(folder)
    embedder = load_embedder(args)
    index = VideoIndex.build(
        embedder, items, cache_path, args.batch_size, skip_errors=True, progress=not args.quiet
    )
    for item, message in index.failed:
        print(f"{args._prog}: warning: skipped {item.path}: {message}", file=sys.stderr)
    if args.text:
        labels, hits = args.text, index.search_text(args.text, args.top_k)
    else:
        labels, hits = args.video, index.search_video(queries, args.top_k)
    results = [
        {"query": query, "results": [{"rank": h.rank, "path": h.item.path, "score": h.score} for h in row]}
        for query, row in zip(labels, hits)
    ]
    if args.json:
        json.dump({"results": results, "cache": index.cache_stats}, sys.stdout, indent=2)
        print()
    else:
        stats = index.cache_stats
        print(f"{len(index.items)} videos ({stats['computed']} embedded, {stats['reused']} from cache)")
        for result in results:
            print(f"query: {result['query']}")
            for hit in result["results"]:
                print(f"  {hit['rank']}. {hit['score']:+.4f}  {hit['path']}")
    return 0
