"""Serve a search page and a JSON API over a video library: type a moment, watch the matching moments play.

The library is a vector index (--index, from `viclip index`), an embedding dataset (--embeddings, from `viclip
embed`), or a FOLDER of videos embedded first (with a progress bar, into FOLDER/.viclip-embeddings/, reused and
updated on the next run, as `viclip search FOLDER`). The model's text tower and the index are loaded once.

  GET /                                    the search page (works offline; /?q=... opens a search)
  GET /api/search?text=...&top_k=N         best moments first; also like=ID ("more like this"),
                                           min_score=S and path_contains=TEXT
  GET /api/videos/ID, /api/thumbnails/ID.jpg   a result's video (range requests) and middle frame
  GET /docs                                the OpenAPI documentation

Only the files in the index are served, by id; nothing else on the machine can be reached through the server.
It listens on 127.0.0.1 (this machine only) unless --host says otherwise.
"""

from __future__ import annotations

import argparse
import errno
import socket
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
)

HELP = "a search page and JSON API over a video folder or vector index (browser, localhost)"
EXTRA = "serve"
EPILOG = (
    "examples: viclip serve --index index/\n"
    "          viclip serve clips/ --model ./viclip-b16 --port 8080\n"
    "          viclip serve --embeddings embeddings/ --host 0.0.0.0   # anyone who can reach this machine"
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.add_argument("folder", nargs="?", help="a folder of videos to embed (if needed) and serve")
    library = parser.add_argument_group("library (one of FOLDER, --index, --embeddings)")
    library.add_argument(
        "--index", default=None, metavar="DIR", help="a vector index folder (from viclip index)"
    )
    library.add_argument(
        "--embeddings", default=None, metavar="DIR", help="an embedding dataset (from viclip embed)"
    )
    library.add_argument(
        "--cache",
        default=None,
        metavar="DIR",
        help="FOLDER's embedding dataset (default: FOLDER/.viclip-embeddings)",
    )
    library.add_argument(
        "--thumbnails",
        default=None,
        metavar="DIR",
        help="where thumbnails are cached (default: a thumbnails/ folder beside the index or embeddings)",
    )
    add_embedder_arguments(parser)
    for action in parser._actions:
        if action.dest == "model":  # an index knows the model that made it
            action.required = False
            action.help += " (default with --index/--embeddings: the model that made them)"
    server = parser.add_argument_group("server")
    server.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 lets anyone who can reach "
        "this machine search the library and watch its videos, with no login)",
    )
    server.add_argument("--port", type=positive_int, default=8000, help="port to listen on (default: 8000)")
    server.add_argument(
        "--max-top-k",
        type=positive_int,
        default=100,
        metavar="K",
        help="the most results one query may ask for",
    )
    add_quiet_argument(server)


def run(args: argparse.Namespace) -> int:
    sources = [name for name in ("folder", "index", "embeddings") if getattr(args, name) is not None]
    if len(sources) != 1:
        raise UsageError("serve a FOLDER, an --index or --embeddings: exactly one of them")
    if args.folder is not None and not Path(args.folder).is_dir():
        raise UsageError(f"video folder {args.folder!r} does not exist or is not a folder")
    if args.index or args.embeddings:
        require_dir(args.index or args.embeddings, "--index" if args.index else "--embeddings")
    if args.cache:
        if args.folder is None:
            raise UsageError(
                "--cache is the embedding folder of a served FOLDER; --index/--embeddings have none"
            )
        check_output_dir(args.cache, "--cache")
    if args.thumbnails:
        check_output_dir(args.thumbnails, "--thumbnails")
    _check_port_free(args.host, args.port)
    app, summary = build_app(args)
    import uvicorn

    print(f"{summary}; serving on http://{_url_host(args.host)}:{args.port}/ (Ctrl+C stops)", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning" if args.quiet else "info")
    return 0


def build_app(args: argparse.Namespace):
    """The app of the parsed arguments and a one-line summary of what it serves (loads the model and index)."""
    from viclip.embedding import VectorIndex
    from viclip.serving import SearchService, Thumbnails, create_app

    if args.index is not None or args.embeddings is not None:
        source = require_dir(args.index or args.embeddings, "--index" if args.index else "--embeddings")
        if args.index is not None:
            index = VectorIndex.load(source)
        else:
            index = VectorIndex.from_embeddings(source)
        if args.model is None:
            args.model = index.info.get("model")
            if not args.model:
                raise UsageError(f"{source} does not name its model; give --model")
        embedder = load_embedder(args)
        thumbnails = Path(args.thumbnails) if args.thumbnails else source / "thumbnails"
    else:
        from viclip.embedding import index_folder
        from viclip.embedding.folder_search import DEFAULT_CACHE_NAME

        if args.model is None:
            raise UsageError("serving a folder needs --model (the model that embeds it)")
        folder = Path(args.folder)
        embedder = load_embedder(args)
        searched = index_folder(
            embedder, folder, args.cache, batch_size=args.batch_size, progress=not args.quiet
        )
        for failure in searched.failed:
            print(f"{args._prog}: warning: skipped {failure.describe()}: {failure.error}", file=sys.stderr)
        index = searched.index
        cache = Path(args.cache) if args.cache else folder / DEFAULT_CACHE_NAME
        thumbnails = Path(args.thumbnails) if args.thumbnails else cache / "thumbnails"
    service = SearchService(index, embedder, max_top_k=args.max_top_k)
    app = create_app(service, Thumbnails(thumbnails))
    return app, f"{len(index)} moments ({index.kind} index, model {args.model})"


def _check_port_free(host: str, port: int) -> None:
    """A usage error before any loading when the address cannot be listened on."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise UsageError(f"--host {host!r} is not an address of this machine ({error.strerror})") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            reason = (
                "the port is in use; pick another --port"
                if error.errno == errno.EADDRINUSE
                else error.strerror
            )
            raise UsageError(f"cannot listen on {host}:{port}: {reason}") from None


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
