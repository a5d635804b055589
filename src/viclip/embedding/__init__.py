# ruff: noqa: F401  (the TYPE_CHECKING imports exist for type checkers and IDEs)
"""Video embeddings at scale: ``embed_videos`` on Ray Data into a Parquet dataset, ``VectorIndex`` (FAISS) search.

Names are imported lazily, so ``import viclip.embedding`` costs nothing until one is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "EmbedResult": "pipeline",
    "embed_videos": "pipeline",
    "EmbeddingMismatchError": "store",
    "Failure": "store",
    "load_embeddings": "store",
    "embedding_matrix": "store",
    "SearchHit": "index",
    "VectorIndex": "index",
    "plan_windows": "inputs",
    "resolve_inputs": "inputs",
    "folder_fingerprint": "fingerprint",
    "model_fingerprint": "fingerprint",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:
    from .fingerprint import folder_fingerprint, model_fingerprint
    from .index import SearchHit, VectorIndex
    from .inputs import plan_windows, resolve_inputs
    from .pipeline import EmbedResult, embed_videos
    from .store import EmbeddingMismatchError, Failure, embedding_matrix, load_embeddings
