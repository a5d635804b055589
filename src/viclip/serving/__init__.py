# ruff: noqa: F401  (the TYPE_CHECKING imports exist for type checkers and IDEs)
"""``viclip serve``: a search page and a JSON API over a vector index of video moments (FastAPI).

:class:`SearchService` answers text and "more like this" queries over a :class:`~viclip.embedding.VectorIndex`;
:class:`VideoFiles` serves only the files the index holds; :class:`Thumbnails` makes and caches one JPEG per moment;
:func:`create_app` puts them behind HTTP. Names are imported lazily (FastAPI only when the app is made).
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

_EXPORTS = {
    "Moment": "service",
    "QueryError": "service",
    "SearchService": "service",
    "UnknownMomentError": "service",
    "VideoFiles": "files",
    "Thumbnails": "thumbnails",
    "create_app": "app",
    "running": "server",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from .app import create_app
    from .files import VideoFiles
    from .server import running
    from .service import Moment, QueryError, SearchService, UnknownMomentError
    from .thumbnails import Thumbnails

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
