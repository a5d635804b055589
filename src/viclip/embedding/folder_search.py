"""Search a folder of videos: a thin layer on :func:`viclip.embedding.embed_videos` + :class:`VectorIndex`.

The folder's embeddings live in an embedding dataset (``FOLDER/.viclip-embeddings/`` by default), reused across runs
and updated when files are added or change; the index over them is exact and built in memory per query run.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from ..inference import VideoTextEmbedder

if TYPE_CHECKING:
    from ..inference.store import Failure
    from .index import VectorIndex
    from .pipeline import EmbedResult


DEFAULT_CACHE_NAME = ".viclip-embeddings"


@dataclass
class FolderIndex:
    """The searchable folder: the index over its readable videos and what embedding them did."""

    index: VectorIndex
    result: EmbedResult

    @property
    def failed(self) -> list[Failure]:
        return self.result.failures


def index_folder(
    embedder: VideoTextEmbedder,
    folder: str | os.PathLike,
    cache_dir: str | os.PathLike | None = None,
    *,
    use_cache: bool = True,
    batch_size: int = 8,
    progress: bool = True,
) -> FolderIndex:
    """Embed the videos under ``folder`` (only those not embedded yet, or changed) and index them exactly.

    ``cache_dir`` defaults to ``FOLDER/.viclip-embeddings``; embeddings of another model or preprocessing there
    are discarded. ``use_cache=False`` embeds everything in a temporary folder that is then deleted.
    """
    from ..inference.store import clip_key, embedding_matrix
    from . import EmbeddingMismatchError, VectorIndex, embed_videos, load_embeddings
    from .inputs import resolve_inputs

    folder = Path(folder)
    clips, _ = resolve_inputs(folder)
    temporary = None if use_cache else tempfile.mkdtemp(prefix="viclip-search-")
    if temporary is not None:
        cache_dir = Path(temporary) / "embeddings"
    elif cache_dir is None:
        cache_dir = (folder if folder.is_dir() else folder.parent) / DEFAULT_CACHE_NAME
    processor = _processor_with_sampling(embedder)
    model_dtype = str(embedder.dtype).removeprefix("torch.")
    run = dict(
        processor=processor,
        engine="local",
        dtype=model_dtype,
        device=str(embedder.device),
        batch_size=batch_size,
        progress=progress,
    )
    try:
        try:
            result = embed_videos(clips, embedder.model, cache_dir, **run)
        except EmbeddingMismatchError:  # another model's embeddings: a cache is always rebuilt
            shutil.rmtree(cache_dir)
            result = embed_videos(clips, embedder.model, cache_dir, **run)
        table, info = load_embeddings(cache_dir)
    finally:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
    wanted = {clip_key(c.path, c.start_sec, c.end_sec) for c in clips}
    columns = table.select(["path", "start_sec", "end_sec"]).to_pydict()
    keep = [
        clip_key(*row) in wanted for row in zip(columns["path"], columns["start_sec"], columns["end_sec"])
    ]
    table = table.filter(pa.array(keep, type=pa.bool_()))
    if table.num_rows == 0:
        reasons = "; ".join(f"{f.path}: {f.error}" for f in result.failures[:3])
        raise ValueError(f"none of the videos under {folder} could be read: {reasons}")
    index = VectorIndex.build(embedding_matrix(table), table, kind="exact", info={"model": info["model"]})
    return FolderIndex(index, result)


def _processor_with_sampling(embedder: VideoTextEmbedder):
    video_processor = embedder.processor.video_processor
    if embedder.sampling is None or embedder.sampling == video_processor.sampling:
        return video_processor
    return type(video_processor).from_dict({**video_processor.to_dict(), "sampling": embedder.sampling})
