# ruff: noqa: F401  (the TYPE_CHECKING imports exist for type checkers and IDEs)
"""The inference home: embedders (ViCLIP and image CLIP on one base), model loading, fingerprints, the embedding
store (Parquet, for embed, search and evaluate), and the batch engine (decoding tasks + model actors on Ray Data, or
in-process) that embedding and scoring jobs run on.

Evaluation, embedding and scoring each depend on this package and not on each other. Names are imported lazily.
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

_EXPORTS = {
    "Embedder": "embedder",
    "VideoTextEmbedder": "embedder",
    "ImageCLIPEmbedder": "image_clip",
    "paper_video_processor": "image_clip",
    "ModelSpec": "loading",
    "load_embedder": "loading",
    "read_model_config": "loading",
    "resolve_model": "loading",
    "folder_fingerprint": "fingerprint",
    "model_fingerprint": "fingerprint",
    "BatchSource": "engine",
    "EngineSettings": "engine",
    "VideoEmbeddingWorker": "engine",
    "WorkerSettings": "engine",
    "embed_batches": "engine",
    "EngineChoice": "engine_choice",
    "choose_engine": "engine_choice",
    "choose_engine_settings": "engine_choice",
    "optimize_for_inference": "optimize",
    "EmbeddingMismatchError": "store",
    "EmbeddingStore": "store",
    "Failure": "store",
    "embedding_matrix": "store",
    "load_embeddings": "store",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from .embedder import Embedder, VideoTextEmbedder
    from .engine import BatchSource, EngineSettings, VideoEmbeddingWorker, WorkerSettings, embed_batches
    from .engine_choice import EngineChoice, choose_engine, choose_engine_settings
    from .fingerprint import folder_fingerprint, model_fingerprint
    from .image_clip import ImageCLIPEmbedder, paper_video_processor
    from .loading import ModelSpec, load_embedder, read_model_config, resolve_model
    from .optimize import optimize_for_inference
    from .store import EmbeddingMismatchError, EmbeddingStore, Failure, embedding_matrix, load_embeddings

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
