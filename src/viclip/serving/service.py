"""The search behind ``viclip serve``: text and "more like this" queries over a vector index, with filters.

The model and the index are loaded once and shared by every request. FAISS searches are read-only and run
concurrently, one OpenMP thread each: requests run in parallel instead, and FAISS's OpenMP threads, which spin for a
while after each search, would otherwise take the cores from the text tower (on 2 cores, encoding a query took
~1 s instead of ~0.1 s right after a 100k search). Only the tokenizer runs under a lock (a fast tokenizer must not
be called from two threads at once); the text tower's forward is thread-safe and runs concurrently (a lock around
the whole encoding gave 0.78x the throughput of 32 concurrent clients on 2 cores).
"""

from __future__ import annotations

import math
import threading
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow.compute as pc
import torch
import torch.nn.functional as F

from ..embedding.index import _faiss
from ..errors import ViCLIPError

if TYPE_CHECKING:
    from ..embedding import VectorIndex
    from ..inference import VideoTextEmbedder

DEFAULT_TOP_K, MAX_TOP_K = 12, 100
MAX_TEXT_CHARS, MAX_FILTER_CHARS = 1000, 500


class QueryError(ViCLIPError, ValueError):
    """A query that cannot be answered as given (empty text, top_k out of range, a malformed filter)."""


class UnknownMomentError(ViCLIPError, LookupError):
    """An id that is not a row of the index."""

    def __init__(self, moment_id: Any, count: int):
        super().__init__(f"no moment with id {moment_id!r}: ids run from 0 to {count - 1}")


@dataclass(frozen=True)
class Moment:
    """One result: row ``id`` of the index (``start_sec``/``end_sec`` ``None`` for a whole video) and its cosine."""

    id: int
    path: str
    start_sec: float | None
    end_sec: float | None
    score: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class SearchService:
    """Text and "more like this" search over ``index`` with ``embedder``'s text tower (FAISS on one thread).

    Example::

        service = SearchService(VectorIndex.load("index/"), VideoTextEmbedder.from_pretrained("viclip-b16"))
        for moment in service.search_text("a goal is scored", top_k=5, min_score=0.2):
            print(moment.score, moment.path, moment.start_sec, moment.end_sec)
    """

    def __init__(self, index: VectorIndex, embedder: VideoTextEmbedder, *, max_top_k: int = MAX_TOP_K):
        self.index = index
        self.embedder = embedder
        self.max_top_k = max_top_k
        self._paths = index.clips.column("path").combine_chunks()
        self._tokenizer_lock = threading.Lock()
        _enable_reconstruct(index.index)

    def __len__(self) -> int:
        return len(self.index)

    def moment(self, moment_id: int, score: float = float("nan")) -> Moment:
        """Row ``moment_id`` of the index."""
        if not isinstance(moment_id, (int, np.integer)) or not 0 <= moment_id < len(self):
            raise UnknownMomentError(moment_id, len(self))
        row = self.index.clips.slice(int(moment_id), 1).to_pylist()[0]
        return Moment(int(moment_id), row["path"], row["start_sec"], row["end_sec"], score)

    def encode_text(self, text: str) -> np.ndarray:
        """The query vector of ``text``: :meth:`Embedder.encode_text` (``viclip search``'s), the tokenizer locked."""
        if not isinstance(text, str) or not text.strip():
            raise QueryError("text is empty: give a few words to search for")
        if len(text) > MAX_TEXT_CHARS:
            raise QueryError(f"text is {len(text)} characters long; at most {MAX_TEXT_CHARS}")
        with self._tokenizer_lock:
            inputs = self.embedder.tokenize([text])
        mask = inputs.get("attention_mask")
        with torch.inference_mode():  # the forward itself is thread-safe: requests run it concurrently
            features = self.embedder.model.get_text_features(
                input_ids=inputs["input_ids"].to(self.embedder.device),
                attention_mask=None if mask is None else mask.to(self.embedder.device),
            ).pooler_output
        return F.normalize(features.float(), dim=-1)[0].cpu().numpy()

    def search_text(self, text: str, top_k: int = DEFAULT_TOP_K, **filters: Any) -> list[Moment]:
        """The moments that best match ``text``, best first (``filters``: ``min_score``, ``path_contains``)."""
        self._check(top_k, **filters)
        return self.search_vector(self.encode_text(text), top_k, **filters)

    def search_like(self, moment_id: int, top_k: int = DEFAULT_TOP_K, **filters: Any) -> list[Moment]:
        """The moments nearest to moment ``moment_id``'s stored embedding (itself first, unless filtered out)."""
        self._check(top_k, **filters)
        self.moment(moment_id)
        return self.search_vector(self.index.index.reconstruct(int(moment_id)), top_k, **filters)

    def search_vector(
        self,
        vector: np.ndarray,
        top_k: int = DEFAULT_TOP_K,
        *,
        min_score: float | None = None,
        path_contains: str | None = None,
    ) -> list[Moment]:
        """The ``top_k`` moments of highest cosine with ``vector`` among those whose path contains
        ``path_contains`` (case-insensitive), dropping those scored below ``min_score``."""
        self._check(top_k, min_score=min_score, path_contains=path_contains)
        query = np.ascontiguousarray(np.asarray(vector, dtype=np.float32).reshape(1, -1))
        params = None
        if path_contains:
            matches = pc.match_substring(self._paths, path_contains, ignore_case=True)
            allowed = np.flatnonzero(matches.to_numpy(zero_copy_only=False))
            if len(allowed) == 0:
                return []
            if len(allowed) < len(self):
                params = _faiss().SearchParameters(sel=_faiss().IDSelectorBatch(allowed.astype(np.int64)))
        count = min(top_k, len(self))
        _faiss().omp_set_num_threads(1)  # per calling thread in OpenMP, so set in each request's thread
        scores, ids = self.index.index.search(query, count, params=params)
        found = [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]
        if min_score is not None:
            found = [(i, s) for i, s in found if s >= min_score]
        if not found:
            return []
        rows = self.index.clips.take([i for i, _ in found]).to_pylist()
        return [
            Moment(i, row["path"], row["start_sec"], row["end_sec"], score)
            for (i, score), row in zip(found, rows)
        ]

    def _check(self, top_k: int, *, min_score: float | None = None, path_contains: str | None = None) -> None:
        if not isinstance(top_k, (int, np.integer)) or not 1 <= top_k <= self.max_top_k:
            raise QueryError(f"top_k must be a whole number from 1 to {self.max_top_k}, got {top_k!r}")
        if min_score is not None and not (
            isinstance(min_score, (int, float)) and math.isfinite(min_score) and -1 <= min_score <= 1
        ):
            raise QueryError(f"min_score must be a cosine between -1 and 1, got {min_score!r}")
        if path_contains is not None and (
            len(path_contains) > MAX_FILTER_CHARS or not path_contains.isprintable()
        ):
            raise QueryError(f"path_contains must be printable text of at most {MAX_FILTER_CHARS} characters")


def _enable_reconstruct(index: Any) -> None:
    """Make ``index.reconstruct(id)`` work: an IVF index needs its direct map (id -> list entry) built once."""
    faiss = _faiss()
    try:
        ivf = faiss.extract_index_ivf(index)
    except RuntimeError:  # not an IVF index: flat and HNSW indexes reconstruct as they are
        return
    ivf.make_direct_map()
