"""``viclip search``: text-to-video and video-to-video search over a folder of videos."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ._cli_common import CliError, add_model_arguments, load_encoder, run_cli
from .video_list import VideoItem, list_videos

PROG = "viclip search"
DEFAULT_CACHE_NAME = ".viclip-embeddings.safetensors"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Search a folder of videos by text (text-to-video) or by an example video (video-to-video). "
            "Videos are embedded once, with a progress bar, into a safetensors cache that is reused on the "
            "next run and updated when files are added or change."
        ),
        epilog=(
            'examples: viclip search clips/ --model ./viclip-b16 --text "a dog in the snow"\n'
            "          viclip search clips/ --model ./viclip-b16 --video query.mp4 --top-k 3"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
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
    add_model_arguments(parser)
    out = parser.add_argument_group("output")
    out.add_argument("--top-k", type=int, default=5, metavar="K", help="results per query (default: 5)")
    out.add_argument("--json", action="store_true", help="print JSON instead of a table")
    out.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def body() -> int:
        from .search import VideoIndex

        if bool(args.text) == bool(args.video):
            raise CliError("give text queries (--text) or query videos (--video), one kind")
        for path in args.video:
            if not os.path.isfile(path):
                raise CliError(f"query video {path!r} does not exist")
        if args.top_k < 1:
            raise CliError(f"--top-k must be at least 1, got {args.top_k}")
        folder = Path(args.folder)
        items = list_videos(folder)
        cache_path = None
        if not args.no_cache:
            cache_path = (
                Path(args.cache)
                if args.cache
                else (folder if folder.is_dir() else folder.parent) / DEFAULT_CACHE_NAME
            )
        encoder = load_encoder(args)
        index = VideoIndex.build(
            encoder, items, cache_path, args.batch_size, skip_errors=True, progress=not args.quiet
        )
        for item, message in index.failed:
            print(f"{PROG}: warning: skipped {item.path}: {message}", file=sys.stderr)
        if args.text:
            queries, hits = args.text, index.search_text(args.text, args.top_k)
        else:
            queries, hits = args.video, index.search_video([VideoItem(p) for p in args.video], args.top_k)
        results = [
            {"query": q, "results": [{"rank": h.rank, "path": h.item.path, "score": h.score} for h in row]}
            for q, row in zip(queries, hits)
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

    return run_cli(PROG, body)


if __name__ == "__main__":
    sys.exit(main())
