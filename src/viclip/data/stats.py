"""Counts of delivered examples and skipped rows, shared with DataLoader worker processes."""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Mapping

from .annotations import SkipReason

logger = logging.getLogger(__name__)

_KEYS: tuple[str, ...] = ("examples", *(reason.value for reason in SkipReason), "shards_done")


class SkipStats:
    """How many examples a pass delivered and how many rows it skipped, by :class:`SkipReason`.

    The counters live in shared memory, so increments made in ``DataLoader`` worker processes (forked or
    spawned with the dataset) are seen by the object the caller holds. Pickled outside process start-up
    (e.g. for hashing) it becomes a detached snapshot, and ``copy.deepcopy`` keeps sharing.
    """

    def __init__(self, counts: Mapping[str, int] | None = None, _shared=None):
        self._shared = _shared if _shared is not None else multiprocessing.Array("q", len(_KEYS))
        for key, value in (counts or {}).items():
            self._shared[_KEYS.index(key)] = int(value)

    def add(self, key: str | SkipReason, n: int = 1) -> None:
        index = _KEYS.index(key.value if isinstance(key, SkipReason) else key)
        with self._shared.get_lock():
            self._shared[index] += n

    def counts(self) -> dict[str, int]:
        """All counters, zeros included."""
        with self._shared.get_lock():
            return dict(zip(_KEYS, self._shared[:]))

    @property
    def num_examples(self) -> int:
        return self.counts()["examples"]

    def skipped(self) -> dict[str, int]:
        """Skipped rows by reason (non-zero reasons only)."""
        counts = self.counts()
        return {reason.value: counts[reason.value] for reason in SkipReason if counts[reason.value]}

    @property
    def num_skipped(self) -> int:
        return sum(self.skipped().values())

    def summary(self) -> str:
        skipped = self.skipped()
        detail = ", ".join(f"{k}={v}" for k, v in skipped.items()) or "none"
        return f"{self.num_examples} examples, {sum(skipped.values())} rows skipped ({detail})"

    def log_summary(self, level: int = logging.INFO, prefix: str = "InternVid pass") -> None:
        logger.log(level, "%s: %s", prefix, self.summary())

    def reset(self) -> None:
        with self._shared.get_lock():
            self._shared[:] = [0] * len(_KEYS)

    def __repr__(self) -> str:
        return f"SkipStats({self.summary()})"

    def __deepcopy__(self, memo) -> SkipStats:
        return self

    def __reduce__(self):
        from multiprocessing.context import get_spawning_popen

        if get_spawning_popen() is None:  # not starting a process: shared memory cannot travel
            return (SkipStats, (self.counts(),))
        return (SkipStats, (None, self._shared))
