"""``VectorIndex``: FAISS inner-product search over an embedding dataset, returning clips (path + time range).

Embeddings are L2-normalised, so the inner product is the cosine similarity. ``kind="exact"`` is
``IndexFlatIP`` (brute force, exact); ``"ivf"`` is ``IndexIVFFlat`` (k-means cells, ``nprobe`` searched);
``"hnsw"`` is ``IndexHNSWFlat`` (a proximity graph); ``"auto"`` is exact up to :data:`EXACT_LIMIT` vectors and
HNSW beyond. Saved as a folder: ``index.faiss``, ``clips.parquet`` (row i = vector i) and ``index_info.json``.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..inference.store import embedding_matrix, load_embeddings

if TYPE_CHECKING:
    from ..inference import VideoTextEmbedder

KINDS = ("auto", "exact", "ivf", "hnsw")
EXACT_LIMIT = 1_000_000
INDEX_FILE, CLIPS_FILE, INFO_FILE = "index.faiss", "clips.parquet", "index_info.json"
HNSW_M, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH = 32, 80, 128


@dataclass(frozen=True)
class SearchHit:
    """One result: the clip (``start_sec``/``end_sec`` ``None`` for a whole video) and its cosine score."""

    rank: int
    path: str
    start_sec: float | None
    end_sec: float | None
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "path": self.path,
            "start_sec": self.start_sec,
            "end_sec": self.end_sec,
            "score": self.score,
        }


def _faiss():
    try:
        import faiss
    except ImportError as error:  # pragma: no cover - an extra of the package
        raise ImportError("the vector index needs FAISS: pip install 'viclip[embed]'") from error
    return faiss


def _as_queries(vectors: Any, dim: int) -> np.ndarray:
    queries = np.asarray(vectors.detach().cpu() if hasattr(vectors, "detach") else vectors, dtype=np.float32)
    queries = queries[None] if queries.ndim == 1 else queries
    if queries.ndim != 2 or queries.shape[1] != dim:
        raise ValueError(f"queries must be (n, {dim}) vectors, got shape {tuple(queries.shape)}")
    return np.ascontiguousarray(queries)


class VectorIndex:
    """Clips and their embeddings, searchable by vector, text or example video.

    Example::

        index = VectorIndex.from_embeddings("embeddings/")          # the output of viclip embed
        index.save("index/")
        index = VectorIndex.load("index/")
        for hit in index.search_text(embedder, "a dog catches a frisbee", top_k=3)[0]:
            print(hit.score, hit.path, hit.start_sec, hit.end_sec)
    """

    def __init__(self, index: Any, clips: pa.Table, kind: str, info: dict[str, Any] | None = None):
        if index.ntotal != clips.num_rows:
            raise ValueError(f"the index holds {index.ntotal} vectors but there are {clips.num_rows} clips")
        self.index = index
        self.clips = clips.select(["path", "start_sec", "end_sec"])
        self.kind = kind
        self.info = dict(info or {})

    def __len__(self) -> int:
        return self.index.ntotal

    @property
    def dim(self) -> int:
        return self.index.d

    # --- building -------------------------------------------------------------------------------------------
    @classmethod
    def build(
        cls,
        vectors: np.ndarray,
        clips: pa.Table | dict[str, Sequence[Any]],
        kind: str = "auto",
        *,
        nlist: int | None = None,
        nprobe: int | None = None,
        info: dict[str, Any] | None = None,
    ) -> VectorIndex:
        """An index of ``vectors`` (``(n, dim)``, L2-normalised) whose row i is ``clips`` row i
        (columns ``path``, ``start_sec``, ``end_sec``)."""
        faiss = _faiss()
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or len(vectors) == 0:
            raise ValueError(f"need a non-empty (n, dim) array of vectors, got shape {vectors.shape}")
        clips = clips if isinstance(clips, pa.Table) else pa.table(dict(clips))
        count, dim = vectors.shape
        if kind == "auto":
            kind = "exact" if count <= EXACT_LIMIT else "hnsw"
        params: dict[str, Any] = {}
        if kind == "exact":
            index = faiss.IndexFlatIP(dim)
        elif kind == "hnsw":
            index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            index.hnsw.efSearch = HNSW_EF_SEARCH
            params = {"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION, "efSearch": HNSW_EF_SEARCH}
        else:
            nlist = nlist or max(1, min(int(4 * math.sqrt(count)), count // 39))
            index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
            sample = (
                vectors
                if count <= 256 * nlist
                else vectors[np.random.default_rng(0).choice(count, 256 * nlist, replace=False)]
            )
            index.train(sample)
            index.nprobe = nprobe or max(1, nlist // 8)
            params = {"nlist": nlist, "nprobe": index.nprobe}
        index.add(vectors)
        return cls(
            index, clips, kind, {**(info or {}), "kind": kind, "count": count, "dim": dim, "params": params}
        )

    @classmethod
    def from_embeddings(
        cls, embeddings_dir: str | os.PathLike, kind: str = "auto", **kwargs: Any
    ) -> VectorIndex:
        """An index of the dataset written by :func:`~viclip.embedding.embed_videos` (``viclip embed``)."""
        table, info = load_embeddings(embeddings_dir)
        if table.num_rows == 0:
            raise ValueError(f"{embeddings_dir} holds no embeddings yet")
        model_info = {
            k: info.get(k)
            for k in ("model", "model_revision", "fingerprint", "dtype", "window_sec", "stride_sec")
        }
        return cls.build(embedding_matrix(table), table, kind, info=model_info, **kwargs)

    # --- persistence ----------------------------------------------------------------------------------------
    def save(self, folder: str | os.PathLike, overwrite: bool = False) -> Path:
        """Write the index folder atomically (built beside ``folder``, then renamed over it).

        Raises:
            FileExistsError: ``folder`` exists and is not empty (an index or anything else), unless ``overwrite``:
                replacing it deletes everything in it.
        """
        faiss = _faiss()
        folder = Path(folder)
        problem = existing_folder_problem(folder)
        if problem and (not overwrite or not folder.is_dir()):
            raise FileExistsError(
                f"{folder} {problem}; pass overwrite=True (viclip index --force) to replace it"
            )
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = folder.with_name(f".{folder.name}.{uuid.uuid4().hex}.tmp")
        tmp.mkdir()
        try:
            faiss.write_index(self.index, str(tmp / INDEX_FILE))
            pq.write_table(self.clips, tmp / CLIPS_FILE)
            (tmp / INFO_FILE).write_text(json.dumps(self.info, indent=2) + "\n")
            if folder.exists():
                old = folder.with_name(f".{folder.name}.{uuid.uuid4().hex}.old")
                os.replace(folder, old)
                os.replace(tmp, folder)
                shutil.rmtree(old)
            else:
                os.replace(tmp, folder)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return folder

    @classmethod
    def load(cls, folder: str | os.PathLike) -> VectorIndex:
        """The index saved in ``folder`` by :meth:`save`."""
        folder = Path(folder)
        for name in (INDEX_FILE, CLIPS_FILE, INFO_FILE):
            if not (folder / name).is_file():
                raise FileNotFoundError(
                    f"{folder} is not a vector index folder: {name} is missing (build one with viclip index)"
                )
        info = json.loads((folder / INFO_FILE).read_text())
        index = _faiss().read_index(str(folder / INDEX_FILE))
        return cls(index, pq.read_table(folder / CLIPS_FILE), info["kind"], info)

    # --- searching ------------------------------------------------------------------------------------------
    def search(self, queries: Any, top_k: int = 5) -> list[list[SearchHit]]:
        """The ``top_k`` clips of highest inner product for each query vector (``(n, dim)`` or ``(dim,)``)."""
        if top_k < 1:
            raise ValueError(f"top_k must be at least 1, got {top_k}")
        scores, ids = self.index.search(_as_queries(queries, self.dim), min(top_k, len(self)))
        columns = self.clips.to_pydict() if len(self) <= 100_000 else None
        results = []
        for row_scores, row_ids in zip(scores, ids):
            hits = []
            for score, i in zip(row_scores.tolist(), row_ids.tolist()):
                if i < 0:  # an approximate index found fewer than top_k
                    continue
                clip = (
                    {k: v[i] for k, v in columns.items()}
                    if columns
                    else self.clips.slice(i, 1).to_pylist()[0]
                )
                hits.append(
                    SearchHit(len(hits) + 1, clip["path"], clip["start_sec"], clip["end_sec"], float(score))
                )
            results.append(hits)
        return results

    def search_text(
        self, embedder: VideoTextEmbedder, texts: str | Sequence[str], top_k: int = 5
    ) -> list[list[SearchHit]]:
        """Text-to-moment: the clips that best match each text."""
        texts = [texts] if isinstance(texts, str) else list(texts)
        return self.search(embedder.encode_text(texts), top_k)

    def search_video(
        self, embedder: VideoTextEmbedder, videos: Sequence[Any], top_k: int = 5
    ) -> list[list[SearchHit]]:
        """The clips most similar to each query clip (a path, ``(path, start_sec, end_sec)`` or ``VideoClip``)."""
        from ..processing import VideoClip

        return self.search(embedder.encode_videos([VideoClip.coerce(v) for v in videos]), top_k)


def existing_folder_problem(folder: str | os.PathLike) -> str | None:
    """What writing an index to ``folder`` would replace, or ``None`` when there is nothing (absent or empty)."""
    folder = Path(folder)
    if not folder.exists():
        return None
    if not folder.is_dir():
        return "is a file, not a folder"
    names = sorted(path.name for path in folder.iterdir())
    if not names:
        return None
    if (folder / INFO_FILE).is_file():
        return "already holds a vector index"
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return f"already exists and is not a vector index (it holds {shown})"
