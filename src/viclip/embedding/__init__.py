# ruff: noqa: F401  (the TYPE_CHECKING imports exist for type checkers and IDEs)
"""Video embeddings at scale: ``embed_videos`` on Ray Data into a Parquet dataset, ``VectorIndex`` (FAISS) search,
and folder search as a thin layer on both.

Names are imported lazily, so ``import viclip.embedding`` costs nothing until one is used.
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

_EXPORTS = {
    "EmbedResult": "pipeline",
    "embed_videos": "pipeline",
    # The store lives in the inference home (shared with evaluation and scoring); these names stay public here.
    # A leading dot makes the module relative to viclip, not to viclip.embedding.
    "EmbeddingMismatchError": ".inference.store",
    "Failure": ".inference.store",
    "load_embeddings": ".inference.store",
    "embedding_matrix": ".inference.store",
    "SearchHit": "index",
    "VectorIndex": "index",
    "plan_windows": "inputs",
    "resolve_inputs": "inputs",
    "FolderIndex": "folder_search",
    "index_folder": "folder_search",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from ..inference.store import EmbeddingMismatchError, Failure, embedding_matrix, load_embeddings
    from .folder_search import FolderIndex, index_folder
    from .index import SearchHit, VectorIndex
    from .inputs import plan_windows, resolve_inputs
    from .pipeline import EmbedResult, embed_videos

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
