"""Embed a benchmark's clips: decoding in threads, one bad video skipped and reported, never fatal."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import torch
from tqdm.auto import tqdm

from ...processing import VideoClip


@dataclass
class EmbeddedClips:
    """Embeddings of the clips that could be read, in order, and why the others could not."""

    indices: list[int]  # positions in the input of the embedded clips
    embeddings: torch.Tensor  # (len(indices), dim), L2-normalised float32
    failures: list[tuple[int, str]] = field(default_factory=list)  # (position, reason)


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
