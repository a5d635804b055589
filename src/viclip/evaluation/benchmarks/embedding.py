"""Embed a benchmark's clips: decoding in threads, one bad video skipped and reported, never fatal."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import torch
from tqdm.auto import tqdm

from ...processing import VideoClip


@dataclass
class EmbeddedClips:
    """Embeddings of the clips that could be read, in order, and why the others could not."""

    indices: list[int]  # positions in the input of the embedded clips
    embeddings: torch.Tensor  # (len(indices), dim), L2-normalised float32
    failures: list[tuple[int, str]] = field(default_factory=list)  # (position, reason)


Item = TypeVar("Item")


@dataclass
class Gallery(Generic[Item]):
    """A benchmark's items whose video was found and embedded, and an account of those left out."""

    items: list[Item]  # the embedded ones, in order
    embeddings: torch.Tensor  # (len(items), dim), L2-normalised float32
    missing: list[str]  # the names of the videos not found
    undecodable: list[dict[str, str]]  # {"clip", "reason"} of the videos found but not decoded

    def skipped(self) -> dict[str, Any]:
        """The results' account of the videos left out (``num_missing``, ``num_undecodable`` and their lists)."""
        return {
            "num_missing": len(self.missing),
            "num_undecodable": len(self.undecodable),
            "missing": self.missing,
            "undecodable": self.undecodable,
        }


def embed_gallery(
    embedder,
    located: Iterable[tuple[Item, VideoClip | None, str]],
    batch_size: int = 8,
    num_workers: int | None = None,
    progress: bool = True,
) -> Gallery[Item]:
    """Embed the clip of each ``(item, clip or None when its video was not found, the video's name)``."""
    found: list[tuple[Item, VideoClip]] = []
    missing: list[str] = []
    for item, clip, name in located:
        if clip is None:
            missing.append(name)
        else:
            found.append((item, clip))
    embedded = embed_clips(embedder, [clip for _, clip in found], batch_size, num_workers, progress)
    undecodable = [{"clip": found[i][1].describe(), "reason": reason} for i, reason in embedded.failures]
    return Gallery([found[i][0] for i in embedded.indices], embedded.embeddings, missing, undecodable)


def default_num_workers() -> int:
    return max(1, min(8, os.cpu_count() or 1))


def embed_clips(
    embedder,
    clips: Sequence[VideoClip],
    batch_size: int = 8,
    num_workers: int | None = None,
    progress: bool = True,
) -> EmbeddedClips:
    """Decode and preprocess every clip (``embedder.preprocess``) in ``num_workers`` threads, then run the
    model (``embedder.encode_pixel_values``) on batches of ``batch_size``.

    A clip that fails to decode (missing, truncated, not a video, a bad range) is left out and listed in
    ``failures`` with the reason; errors of the model itself propagate.
    """
    num_workers = num_workers or default_num_workers()
    indices: list[int] = []
    chunks: list[torch.Tensor] = []
    failures: list[tuple[int, str]] = []
    batch: list[torch.Tensor] = []
    batch_indices: list[int] = []

    def flush() -> None:
        if batch:
            chunks.append(embedder.encode_pixel_values(torch.stack(batch)))
            indices.extend(batch_indices)
            batch.clear()
            batch_indices.clear()

    def decode(clip: VideoClip) -> torch.Tensor | str:
        try:
            return embedder.preprocess([clip])[0]
        except Exception as error:  # one unreadable video must not stop the benchmark
            return f"{type(error).__name__}: {' '.join(str(error).split())}"

    # A bounded window of pending decodes keeps memory flat however fast the decoders are.
    window = max(2 * batch_size, 2 * num_workers)
    with (
        ThreadPoolExecutor(num_workers, thread_name_prefix="viclip-decode") as pool,
        tqdm(total=len(clips), desc="embedding videos", unit="video", disable=not progress) as bar,
    ):
        pending: deque = deque()
        position = 0
        while position < len(clips) or pending:
            while position < len(clips) and len(pending) < window:
                pending.append((position, pool.submit(decode, clips[position])))
                position += 1
            index, future = pending.popleft()
            result = future.result()
            if isinstance(result, str):
                failures.append((index, result))
            else:
                batch.append(result)
                batch_indices.append(index)
                if len(batch) == batch_size:
                    flush()
            bar.update(1)
        flush()
    embeddings = torch.cat(chunks) if chunks else torch.zeros(0, 0)
    return EmbeddedClips(indices, embeddings, failures)
