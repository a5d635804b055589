"""Embed videos once and keep the embeddings in an embedding folder that follows file changes.

The cache is the folder :mod:`viclip.inference.store` defines, the one ``viclip embed`` writes and ``viclip search``
and ``viclip index`` read (Parquet part files, each written atomically: an interrupted run leaves whole parts).
A clip is keyed by its absolute path and window (:func:`~viclip.inference.store.clip_key`); its row is valid while
the file's size and modification time (ns) are unchanged, else it is dropped and the clip embedded again. The
folder belongs to one model: it records the fingerprint of the model and preprocessing, and another model is
refused (:class:`~viclip.inference.store.EmbeddingMismatchError`) rather than mixed in or overwriting it.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from tqdm.auto import tqdm

from ..data.run_lock import RUN_LOCK_FILE, run_lock
from ..inference.store import (
    FORMAT,
    INFO_FILE,
    ClipKey,
    EmbeddingMismatchError,
    EmbeddingStore,
    clip_key,
    embedding_matrix,
)
from ..processing import VideoClip

if TYPE_CHECKING:
    from ..inference import Embedder

logger = logging.getLogger(__name__)

EmbedFn = Callable[[list[VideoClip]], torch.Tensor]
Stamp = tuple[int, int]  # (file_size, file_mtime_ns)
Entry = tuple[Stamp, torch.Tensor]
ROWS_PER_PART = 1024


def _entry_id(item: VideoClip) -> ClipKey:
    return clip_key(os.path.abspath(item.path), item.start_sec, item.end_sec)


def _file_stamp(path: str) -> Stamp:
    stat = os.stat(path)
    return stat.st_size, stat.st_mtime_ns


@dataclass
class CacheResult:
    """What :meth:`EmbeddingCache.embed` returns: embeddings in the order of ``items``."""

    items: list[VideoClip]
    embeddings: torch.Tensor  # (len(items), dim) float32
    num_computed: int = 0
    num_reused: int = 0
    failed: list[tuple[VideoClip, str]] = field(default_factory=list)


class EmbeddingCache:
    """An embedding folder of video embeddings, reused across runs and updated when videos change.

    Example::

        cache = EmbeddingCache.for_embedder("videos.emb", embedder)  # or EmbeddingCache(folder, fingerprint)
        result = cache.embed(list_videos("videos/"), embedder.encode_videos)  # decodes only new/changed files

    Args:
        path: the folder (``None``: an in-memory cache that computes everything and writes nothing).
        fingerprint: the identity of the model and preprocessing that embed.
        details: what ``embedding_info.json`` says besides (``model``, ``model_revision``, ``dtype``,
            ``num_frames``, ``sampling``; see :meth:`for_embedder`).
    """

    def __init__(
        self, path: str | os.PathLike | None, fingerprint: str, details: dict[str, Any] | None = None
    ):
        self.path = Path(path) if path is not None else None
        self.fingerprint = fingerprint
        self.details = dict(details or {})

    @classmethod
    def for_embedder(cls, path: str | os.PathLike | None, embedder: Embedder) -> EmbeddingCache:
        """The cache of ``embedder``'s embeddings: its fingerprint, and its model and preprocessing described."""
        model = embedder.model
        name = str(getattr(model, "name_or_path", "") or type(model).__name__)
        video_processor = getattr(embedder, "video_processor", None)
        if video_processor is None:  # VideoTextEmbedder: the processor's; ImageCLIPEmbedder: its own
            video_processor = embedder.processor.video_processor
        details = {
            "model": name,
            "model_revision": "local" if os.path.isdir(name) else "unknown",
            "dtype": str(embedder.dtype).removeprefix("torch."),
            "num_frames": int(video_processor.num_frames),
            "sampling": str(getattr(embedder, "sampling", None) or video_processor.sampling),
        }
        return cls(path, embedder.fingerprint(), details)

    def info(self, dim: int) -> dict[str, Any]:
        """The folder's ``embedding_info.json`` (the keys ``viclip embed`` writes; no windows)."""
        details = self.details
        return {
            "format": FORMAT,
            "model": details.get("model", "unknown"),
            "model_revision": details.get("model_revision", "unknown"),
            "fingerprint": self.fingerprint,
            "dtype": details.get("dtype"),
            "dim": dim,
            "window_sec": None,
            "stride_sec": None,
            "num_frames": details.get("num_frames"),
            "sampling": details.get("sampling"),
        }

    def _store(self) -> EmbeddingStore | None:
        if self.path is None:
            return None
        if self.path.exists() and not self.path.is_dir():
            raise EmbeddingMismatchError(
                f"embedding cache {str(self.path)!r} is a file; the cache is a folder in the format of viclip embed "
                "(give a folder)"
            )
        return EmbeddingStore(self.path)

    def load(self) -> dict[ClipKey, Entry]:
        """The folder's valid entries, ``{clip key: ((size, mtime_ns), embedding)}``, after dropping the rows of
        changed files from it; a part file that cannot be read is set aside (its clips are embedded again).

        Raises:
            EmbeddingMismatchError: the folder holds another model's embeddings, or is not an embedding folder.
        """
        store = self._store()
        if store is None:
            return {}
        info = store.read_info()
        if info is None:
            if store.root.is_dir() and any(p.name != RUN_LOCK_FILE for p in store.root.iterdir()):
                raise EmbeddingMismatchError(
                    f"{store.root} exists and is not an embedding folder (no {INFO_FILE})"
                )
            return {}
        store.open(self.info(int(info["dim"])))  # refuses another model's folder
        _set_aside_unreadable_parts(store)
        store.drop_stale_rows()
        table = store.read_table(["path", "start_sec", "end_sec", "embedding", "file_size", "file_mtime_ns"])
        if table is None:
            return {}
        embeddings = torch.tensor(embedding_matrix(table))  # a copy: Arrow's buffers are read-only
        columns = table.select(["path", "start_sec", "end_sec", "file_size", "file_mtime_ns"]).to_pydict()
        rows = zip(*columns.values())
        return {
            clip_key(p, s, e): ((size, mtime), embeddings[i]) for i, (p, s, e, size, mtime) in enumerate(rows)
        }

    def embed(
        self,
        items: Sequence[VideoClip],
        embed_fn: EmbedFn,
        batch_size: int = 8,
        skip_errors: bool = False,
        progress: bool = True,
        prune: bool = False,
    ) -> CacheResult:
        """Embeddings for ``items``, computing only those missing or whose file changed.

        Args:
            items: the clips.
            embed_fn: ``embed_fn(list_of_items) -> (len, dim)`` tensor; called on batches of new items.
            batch_size: items per ``embed_fn`` call.
            skip_errors: on an exception for a batch, retry its items one by one and leave out those
                that fail (listed in ``CacheResult.failed``); otherwise the exception propagates
                (after saving what was computed so far).
            progress: show a tqdm bar over the items to compute.
            prune: drop the folder's rows of clips not in ``items`` (otherwise they are kept, as long as
                their files are unchanged, for later queries).
        """
        items = list(items)
        missing_files = [item.path for item in items if not os.path.isfile(item.path)]
        if missing_files:
            raise FileNotFoundError(f"video file(s) not found: {', '.join(missing_files[:5])}")
        self._store()  # a file where the folder should be is refused before the lock would make the folder
        with run_lock(self.path) if self.path is not None else contextlib.nullcontext():
            entries = self.load()
            if prune:
                self._prune(entries, {_entry_id(item) for item in items})
            todo = [item for item in dict.fromkeys(items) if _entry_id(item) not in entries]
            computed, failed = self._compute(todo, embed_fn, batch_size, skip_errors, progress)
        entries.update(computed)
        failed_ids = {_entry_id(item) for item, _ in failed}
        kept = [item for item in items if _entry_id(item) not in failed_ids]
        embeddings = (
            torch.stack([entries[_entry_id(item)][1] for item in kept]) if kept else torch.zeros(0, 0)
        )
        reused = sum(1 for key in dict.fromkeys(map(_entry_id, kept)) if key not in computed)
        return CacheResult(kept, embeddings, len(computed), reused, failed)

    def _prune(self, entries: dict[ClipKey, Entry], wanted: set[ClipKey]) -> None:
        unwanted = [key for key in entries if key not in wanted]
        store = self._store()
        if store is not None:
            store.drop_rows(unwanted)
        for key in unwanted:
            del entries[key]

    def _compute(
        self, todo: list[VideoClip], embed_fn: EmbedFn, batch_size: int, skip_errors: bool, progress: bool
    ) -> tuple[dict[ClipKey, Entry], list[tuple[VideoClip, str]]]:
        """Embed ``todo`` in batches; the rows go to the folder every :data:`ROWS_PER_PART` clips and when the
        work ends, also by an exception (what was computed is kept)."""
        computed: dict[ClipKey, Entry] = {}
        failed: list[tuple[VideoClip, str]] = []
        writer = _PartWriter(self)
        bar = tqdm(total=len(todo), desc="embedding videos", unit="video", disable=not progress or not todo)
        try:
            for start in range(0, len(todo), batch_size):
                batch = todo[start : start + batch_size]
                # stat before decoding: a file rewritten while we decode gets a newer mtime, recomputed next time
                stamps = [_file_stamp(item.path) for item in batch]
                for item, stamp, embedding in _embedded(batch, stamps, embed_fn, skip_errors, failed):
                    computed[_entry_id(item)] = (stamp, embedding)
                    writer.add(_entry_id(item), stamp, embedding)
                bar.update(len(batch))
        finally:
            bar.close()
            writer.flush()
        return computed, failed


def _embedded(
    batch: list[VideoClip],
    stamps: list[Stamp],
    embed_fn: EmbedFn,
    skip_errors: bool,
    failed: list[tuple[VideoClip, str]],
) -> Iterator[tuple[VideoClip, Stamp, torch.Tensor]]:
    """``(item, stamp, embedding)`` of a batch; with ``skip_errors`` a failing batch is retried item by item and
    the items that fail are added to ``failed``."""
    try:
        embeddings = [*embed_fn(batch).detach().float().cpu()]
    except Exception:
        if not skip_errors:
            raise
    else:
        yield from zip(batch, stamps, embeddings)
        return
    for item, stamp in zip(batch, stamps):
        try:
            embedding = embed_fn([item]).detach().float().cpu()[0]
        except Exception as err:
            failed.append((item, f"{type(err).__name__}: {err}"))
            logger.warning("skipping %s: %s", item.describe(), err)
            continue
        yield item, stamp, embedding


class _PartWriter:
    """Buffers computed rows and appends them to the cache's folder as part files (nothing for an in-memory
    cache); the folder is opened, or created, with the first part, when the dimension is known."""

    def __init__(self, cache: EmbeddingCache):
        self.cache = cache
        self.store = cache._store()
        self.rows: list[tuple[ClipKey, Stamp, torch.Tensor]] = []

    def add(self, key: ClipKey, stamp: Stamp, embedding: torch.Tensor) -> None:
        self.rows.append((key, stamp, embedding))
        if len(self.rows) >= ROWS_PER_PART:
            self.flush()

    def flush(self) -> None:
        if self.store is None or not self.rows:
            self.rows.clear()
            return
        dim = int(self.rows[0][2].numel())
        info = self.cache.info(dim)
        self.store.open(info)  # creates the folder, or refuses one whose model or dimension differ
        columns: dict[str, list] = {
            "path": [key[0] for key, _, _ in self.rows],
            "start_sec": [key[1] for key, _, _ in self.rows],
            "end_sec": [key[2] for key, _, _ in self.rows],
            "embedding": [embedding.numpy() for _, _, embedding in self.rows],
            "model": [info["model"]] * len(self.rows),
            "model_revision": [info["model_revision"]] * len(self.rows),
            "file_size": [stamp[0] for _, stamp, _ in self.rows],
            "file_mtime_ns": [stamp[1] for _, stamp, _ in self.rows],
        }
        self.store.append(columns, dim)
        self.rows.clear()


def _set_aside_unreadable_parts(store: EmbeddingStore) -> None:
    """Rename each part file whose Parquet footer cannot be read to ``<name>.unreadable`` (no longer a part file:
    its clips are embedded again), with a warning; a cache must never stop the job over a damaged file."""
    import pyarrow.parquet as pq

    for part in store.part_files():
        try:
            pq.read_metadata(part)
        except Exception as error:  # pyarrow raises ArrowInvalid, OSError...: any of them means unreadable
            aside = part.with_name(f"{part.name}.unreadable")
            os.replace(part, aside)
            logger.warning(
                "could not read embedding cache part %s (%s); set aside as %s", part, error, aside.name
            )


def cached_video_embeddings(
    encoder: Embedder,
    items: Sequence[VideoClip],
    cache_path: str | os.PathLike | None = None,
    batch_size: int = 8,
    skip_errors: bool = False,
    progress: bool = True,
) -> CacheResult:
    """Normalised embeddings of ``items``, through an embedding folder when ``cache_path`` is given."""
    cache = EmbeddingCache.for_embedder(cache_path, encoder)
    return cache.embed(
        items, encoder.encode_videos, batch_size=batch_size, skip_errors=skip_errors, progress=progress
    )
