"""Text-video retrieval over a set of videos: embed them once (cached), then query by text or by video."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from ..processing import VideoClip
from .embedder import VideoTextEmbedder
from .embedding_cache import CacheResult, EmbeddingCache


def embed_videos(
    encoder: VideoTextEmbedder,
    items: Sequence[VideoClip],
    cache_path: str | os.PathLike | None = None,
    batch_size: int = 8,
    skip_errors: bool = False,
    progress: bool = True,
) -> CacheResult:
    """Normalised embeddings of ``items``, through a safetensors cache when ``cache_path`` is given."""
    cache = EmbeddingCache(cache_path, encoder.fingerprint())
    return cache.embed(
        items, encoder.encode_videos, batch_size=batch_size, skip_errors=skip_errors, progress=progress
    )


@dataclass
class SearchHit:
    rank: int
    item: VideoClip
    score: float  # cosine similarity


class VideoIndex:
    """Embedded videos that can be searched by text or by example video.

    Example::

        index = VideoIndex.build(encoder, list_videos("clips/"), cache_path="clips.emb.safetensors")
        for hit in index.search_text("a dog catching a frisbee", top_k=3)[0]:
            print(hit.rank, hit.score, hit.item.path)
    """

    def __init__(self, encoder: VideoTextEmbedder, items: Sequence[VideoClip], embeddings: torch.Tensor):
        if len(items) != len(embeddings):
            raise ValueError(f"{len(items)} videos but {len(embeddings)} embeddings")
        self.encoder = encoder
        self.items = list(items)
        self.embeddings = embeddings.float()
        self.failed: list[tuple[VideoClip, str]] = []
        self.cache_stats: dict[str, int] = {"computed": len(self.items), "reused": 0}

    @classmethod
    def build(
        cls,
        encoder: VideoTextEmbedder,
        items: Sequence[VideoClip],
        cache_path: str | os.PathLike | None = None,
        batch_size: int = 8,
        skip_errors: bool = True,
        progress: bool = True,
    ) -> VideoIndex:
        """Embed ``items`` (reusing the cache); unreadable videos are skipped (``index.failed``) when
        ``skip_errors``."""
        result = embed_videos(encoder, items, cache_path, batch_size, skip_errors, progress)
        if not result.items:
            raise ValueError(
                "none of the videos could be read: " + "; ".join(msg for _, msg in result.failed[:3])
            )
        index = cls(encoder, result.items, result.embeddings)
        index.failed = result.failed
        index.cache_stats = {"computed": result.num_computed, "reused": result.num_reused}
        return index

    def _rank(self, queries: torch.Tensor, top_k: int) -> list[list[SearchHit]]:
        similarity = queries @ self.embeddings.T
        values, indices = similarity.topk(min(top_k, len(self.items)), dim=-1)
        return [
            [
                SearchHit(rank + 1, self.items[i], float(v))
                for rank, (v, i) in enumerate(zip(row_v.tolist(), row_i.tolist()))
            ]
            for row_v, row_i in zip(values, indices)
        ]

    def search_text(self, queries: str | Sequence[str], top_k: int = 5) -> list[list[SearchHit]]:
        """Best videos for each text query (text-to-video)."""
        queries = [queries] if isinstance(queries, str) else list(queries)
        return self._rank(self.encoder.encode_text(queries), top_k)

    def search_video(self, queries: VideoClip | Sequence[VideoClip], top_k: int = 5) -> list[list[SearchHit]]:
        """Most similar indexed videos for each query video (video-to-video)."""
        queries = [queries] if isinstance(queries, VideoClip) else list(queries)
        return self._rank(self.encoder.encode_videos(queries), top_k)

    def rank_texts(self, texts: Sequence[str], video: VideoClip, top_k: int = 5) -> list[tuple[str, float]]:
        """Video-to-text: the ``texts`` that best describe ``video``."""
        video_embed = self.encoder.encode_videos([video])
        scores = (video_embed @ self.encoder.encode_text(list(texts)).T)[0]
        values, indices = scores.topk(min(top_k, len(texts)))
        return [(texts[i], float(v)) for v, i in zip(values.tolist(), indices.tolist())]
