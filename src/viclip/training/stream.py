"""A resumable view of the training stream: every example carries the position right after it.

The training loop remembers, per DataLoader worker, the position after the last example of the last
batch it trained on, and saves it with each checkpoint; resuming restarts every worker there, so rows
are neither repeated nor skipped. Datasets with ``state_dict()`` / ``load_state_dict()`` (a `datasets`
IterableDataset such as `load_internvid`'s) resume in O(1); any other deterministic iterable resumes by
counting and skipping examples.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from torch.utils.data import IterableDataset, get_worker_info

STREAM_KEY = "_stream_position"


def is_stateful(dataset: Any) -> bool:
    return callable(getattr(dataset, "state_dict", None)) and callable(
        getattr(dataset, "load_state_dict", None)
    )


class ResumableStream(IterableDataset):
    """Wraps `dataset` so that each example holds ``STREAM_KEY: (worker_id, position)``.

    Args:
        dataset: the per-process training data (already split across processes).
        worker_positions: ``{worker_id: position}`` to start from (from a checkpoint).
    """

    def __init__(self, dataset: Iterable[dict], worker_positions: dict[int, Any] | None = None):
        self.dataset = dataset
        self.worker_positions = dict(worker_positions or {})

    def __iter__(self) -> Iterator[dict]:
        info = get_worker_info()
        worker = info.id if info is not None else 0
        position = self.worker_positions.get(worker)
        if is_stateful(self.dataset):
            if position is not None:
                self.dataset.load_state_dict(position)
            for example in self.dataset:
                yield {**example, STREAM_KEY: (worker, self.dataset.state_dict())}
        else:
            skip = int(position or 0)
            for count, example in enumerate(self.dataset, start=1):
                if count > skip:
                    yield {**example, STREAM_KEY: (worker, count)}


def pop_stream_positions(examples: list[dict]) -> dict[int, Any]:
    """Remove the stream positions from `examples`; return the last position of each worker."""
    positions: dict[int, Any] = {}
    for example in examples:
        if STREAM_KEY in example:
            worker, position = example.pop(STREAM_KEY)
            positions[worker] = position
    return positions


class StreamCollator:
    """Applies `collate_fn` and attaches the stream positions of the batch under ``STREAM_KEY``."""

    def __init__(self, collate_fn):
        self.collate_fn = collate_fn

    def __call__(self, examples: list[dict]) -> dict:
        examples = [dict(e) for e in examples]
        positions = pop_stream_positions(examples)
        batch = self.collate_fn(examples)
        batch[STREAM_KEY] = positions
        return batch


class InMemoryStream:
    """A list of examples served as a resumable stream: a seeded permutation per epoch.

    For small datasets decoded once (``cache_examples``): later epochs cost no decoding. It has the
    `datasets` IterableDataset resume interface (``state_dict``/``load_state_dict``/``set_epoch``).
    Use it with ``num_workers=0`` (its examples are already decoded).
    """

    def __init__(self, examples: list[dict], seed: int = 0, shuffle: bool = True):
        if not examples:
            raise ValueError("InMemoryStream needs at least one example")
        self.examples = examples
        self.seed = seed
        self.shuffle = shuffle
        self.epoch = 0
        self._start = 0
        self._position = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "position": self._position}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.epoch, self._start = int(state["epoch"]), int(state["position"])

    def __len__(self) -> int:
        return len(self.examples)

    def __iter__(self) -> Iterator[dict]:
        import torch

        if self.shuffle:
            generator = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
            order = torch.randperm(len(self.examples), generator=generator).tolist()
        else:
            order = list(range(len(self.examples)))
        start, self._start = self._start, 0
        for self._position in range(start + 1, len(order) + 1):
            yield self.examples[order[self._position - 1]]
