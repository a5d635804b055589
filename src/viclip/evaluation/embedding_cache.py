"""Embed videos once and keep the embeddings in a safetensors cache that follows file changes.

An entry is keyed by the absolute path and the clip window, and is valid while the file's size and
modification time (ns) are unchanged. The whole cache belongs to one model: it stores a fingerprint
and is discarded when another model (or preprocessing) reads it. Files are written atomically
(temporary file + rename), so an interrupted run leaves the previous cache intact.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from tqdm.auto import tqdm

from ..processing import VideoClip

if TYPE_CHECKING:
    from ..inference import VideoTextEmbedder

logger = logging.getLogger(__name__)

CACHE_FORMAT = "viclip-embedding-cache/1"

EmbedFn = Callable[[list[VideoClip]], torch.Tensor]


def _entry_id(item: VideoClip) -> tuple[str, float | None, float | None]:
    return (os.path.abspath(item.path), item.start_sec, item.end_sec)


def _file_stamp(path: str) -> tuple[int, int]:
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
    """A safetensors file of video embeddings, reused across runs and updated when videos change.

    Example::

        cache = EmbeddingCache("videos.emb.safetensors", fingerprint=model_fingerprint(model))  # .fingerprint
        result = cache.embed(list_videos("videos/"), embed_fn)  # decodes only new/changed files
    """

    def __init__(self, path: str | os.PathLike | None, fingerprint: str):
        # path None: an in-memory cache that computes everything and writes nothing.
        self.path = Path(path) if path is not None else None
        self.fingerprint = fingerprint

    def load(self) -> dict[tuple, tuple[tuple[int, int], torch.Tensor]]:
        """Entries of the cache file for this fingerprint: ``{entry id: ((size, mtime_ns), embedding)}``.

        A missing file, another model's cache or an unreadable file all give an empty dict (with a
        log message), since a cache can always be rebuilt.
        """
        if self.path is None or not self.path.exists():
            return {}
        try:
            with safe_open(str(self.path), framework="pt") as f:
                metadata = f.metadata() or {}
                if metadata.get("format") != CACHE_FORMAT:
                    logger.warning("%s is not a viclip embedding cache; rebuilding it", self.path)
                    return {}
                if metadata.get("fingerprint") != self.fingerprint:
                    logger.info("%s was computed by another model; recomputing", self.path)
                    return {}
                entries = json.loads(metadata["entries"])
                embeddings = f.get_tensor("embeddings") if entries else torch.empty(0)
        except Exception as err:  # a corrupt cache must never stop the job
            logger.warning("could not read embedding cache %s (%s); rebuilding it", self.path, err)
            return {}
        return {
            (path, start, end): ((size, mtime_ns), embeddings[i])
            for i, (path, start, end, size, mtime_ns) in enumerate(entries)
        }

    def save(self, entries: dict[tuple, tuple[tuple[int, int], torch.Tensor]]) -> None:
        """Write ``entries`` atomically (nothing for an in-memory cache)."""
        if self.path is None:
            return
        rows = [[*key, *stamp] for key, (stamp, _) in entries.items()]
        tensors = {
            "embeddings": torch.stack([emb for _, emb in entries.values()]).float().contiguous()
            if entries
            else torch.zeros(0, 0)
        }
        metadata = {"format": CACHE_FORMAT, "fingerprint": self.fingerprint, "entries": json.dumps(rows)}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            save_file(tensors, str(tmp), metadata=metadata)
            os.replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)

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
            prune: drop cache entries for clips not in ``items`` (otherwise they are kept, as long as
                their files are unchanged, for later queries).
        """
        items = list(items)
        missing_files = [item.path for item in items if not os.path.isfile(item.path)]
        if missing_files:
            raise FileNotFoundError(f"video file(s) not found: {', '.join(missing_files[:5])}")
        stored = self.load()
        # Drop entries whose files vanished or changed.
        valid = {}
        for key, (stamp, emb) in stored.items():
            if os.path.isfile(key[0]) and _file_stamp(key[0]) == tuple(stamp):
                valid[key] = (tuple(stamp), emb)
        changed = len(valid) != len(stored)
        if prune:
            wanted = {_entry_id(item) for item in items}
            pruned = {k: v for k, v in valid.items() if k in wanted}
            changed |= len(pruned) != len(valid)
            valid = pruned

        todo = [item for item in dict.fromkeys(items) if _entry_id(item) not in valid]
        failed: list[tuple[VideoClip, str]] = []
        computed = 0
        bar = tqdm(total=len(todo), desc="embedding videos", unit="video", disable=not progress or not todo)
        try:
            for start in range(0, len(todo), batch_size):
                batch = todo[start : start + batch_size]
                stamps = [_file_stamp(item.path) for item in batch]  # stat before decoding: a file
                # rewritten while we decode gets a newer mtime and is recomputed next time.
                try:
                    embeds = [*embed_fn(batch).detach().float().cpu()]
                    done = list(zip(batch, stamps, embeds))
                except Exception:
                    if not skip_errors:
                        raise
                    done = []
                    for item, stamp in zip(batch, stamps):
                        try:
                            done.append((item, stamp, embed_fn([item]).detach().float().cpu()[0]))
                        except Exception as err:
                            failed.append((item, f"{type(err).__name__}: {err}"))
                            logger.warning("skipping %s: %s", item.describe(), err)
                for item, stamp, emb in done:
                    valid[_entry_id(item)] = (stamp, emb)
                    computed += 1
                    changed = True
                bar.update(len(batch))
        finally:
            bar.close()
            if changed:
                self.save(valid)

        failed_ids = {_entry_id(item) for item, _ in failed}
        kept = [item for item in items if _entry_id(item) not in failed_ids]
        if kept:
            embeddings = torch.stack([valid[_entry_id(item)][1] for item in kept])
        else:
            embeddings = torch.zeros(0, 0)
        todo_ids = {_entry_id(item) for item in todo}
        reused = sum(1 for item in dict.fromkeys(kept) if _entry_id(item) not in todo_ids)
        return CacheResult(kept, embeddings, computed, reused, failed)


def cached_video_embeddings(
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
