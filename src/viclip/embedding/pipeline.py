"""``embed_videos``: clips -> L2-normalised ViCLIP video embeddings in a resumable Parquet dataset, on Ray Data.

Stages: (window mode only) probe each video's duration in CPU tasks and cut windows; decode and preprocess each
clip in CPU tasks with the model's video processor (or read its frames from prepared shards); run ``get_video_features`` in actors (one per GPU, or CPU
actors); the driver writes the rows in atomic part files as they arrive (see :mod:`.store`). ``runner="local"``
runs the same stages in this process, without Ray (small folders, tests, the folder search).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..data.run_lock import holds_run_lock
from ..inference.engine import (
    BatchSource,
    EngineSettings,
    WorkerSettings,
    canonical_dtype,
    decode_clips,
    embed_batches,
    optional_seconds,
    ray_init,
)
from ..inference.loading import resolve_model
from ..inference.store import ClipKey, EmbeddingStore, Failure, clip_key
from ..processing import VideoClip
from .inputs import expand_windows, probe_duration, resolve_inputs
from .prepared import READ_COLUMNS, decode_prepared_batch, prepared_keys, prepared_shards

logger = logging.getLogger(__name__)


@dataclass
class EmbedResult:
    """What :func:`embed_videos` did."""

    output_dir: Path
    num_clips: int  # clips asked for (after windowing)
    num_embedded: int  # embedded by this run
    num_reused: int  # already in the dataset
    failures: list[Failure] = field(default_factory=list)
    # Summed over the model workers: running the model, and waiting for decoded clips between batches.
    model_seconds: float = 0.0
    input_wait_seconds: float = 0.0

    @property
    def model_busy_fraction(self) -> float | None:
        """The share of the model workers' time spent running the model (after their first batch); ``None``
        when nothing was embedded. Well below 1, decoding (or the writer) is the bottleneck: add CPUs."""
        total = self.model_seconds + self.input_wait_seconds
        return self.model_seconds / total if total > 0 else None

    def summary(self) -> str:
        text = (
            f"{self.num_clips} clips: {self.num_embedded} embedded, {self.num_reused} already done, "
            f"{len(self.failures)} failed -> {self.output_dir}"
        )
        busy = self.model_busy_fraction
        if busy is not None:
            text += f"; the model ran {busy:.0%} of the time and waited {1 - busy:.0%} for decoded clips"
        return text


def probe_batch(batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    durations, errors = [], []
    for path in batch["path"]:
        try:
            durations.append(probe_duration(str(path)))
            errors.append("")
        except Exception as error:
            durations.append(float("nan"))
            errors.append(f"{type(error).__name__}: {error}")
    return {
        "path": np.asarray(batch["path"]).astype(str),
        "duration": np.asarray(durations),
        "error": np.asarray(errors),
    }


def _clip_columns(keys: list[ClipKey]) -> dict[str, np.ndarray]:
    nan = float("nan")
    return {
        "path": np.asarray([path for path, _, _ in keys], dtype=object).astype(str),
        "start_sec": np.asarray([nan if start is None else start for _, start, _ in keys], dtype=np.float64),
        "end_sec": np.asarray([nan if end is None else end for _, _, end in keys], dtype=np.float64),
    }


# --- runners: the stages in this process, or on Ray Data ---------------------------------------------------------
# Each yields the model's output batches for the clips in ``todo`` (clip keys).
def _local_probe(paths: list[str]) -> Iterator[dict[str, np.ndarray]]:
    for start in range(0, len(paths), 64):
        yield probe_batch({"path": np.asarray(paths[start : start + 64])})


def _ray_probe(paths: list[str]) -> Iterator[dict[str, np.ndarray]]:
    import ray

    ds = ray.data.from_items([{"path": p} for p in paths], override_num_blocks=min(len(paths), 256))
    yield from ds.map_batches(probe_batch, batch_size=16, num_cpus=1, batch_format="numpy").iter_batches(
        batch_size=None, batch_format="numpy"
    )


# --- the job ------------------------------------------------------------------------------------------------------
@holds_run_lock("output_dir")
def embed_videos(
    inputs: str | os.PathLike | Iterable[Any],
    model: Any,
    output_dir: str | os.PathLike,
    *,
    processor: Any = None,
    window_sec: float | None = None,
    stride_sec: float | None = None,
    video_root: str | os.PathLike | None = None,
    runner: str = "ray",
    ray_address: str | None = None,
    num_gpus: int = 0,
    num_cpu_actors: int = 1,
    cpus_per_actor: int = 1,
    dtype: str = "float32",
    device: str | None = None,
    batch_size: int = 8,
    optimize: str | None = None,
    rows_per_part: int = 1024,
    flush_seconds: float = 60.0,
    progress: bool = True,
) -> EmbedResult:
    """Embed every clip of ``inputs`` into the Parquet dataset ``output_dir``; resumable, bad files listed.

    Args:
        inputs: a folder of videos (recursive), a video file, a clip list (CSV/TSV/JSONL: ``path,start_sec,
            end_sec``), InternVid rows (a list with ``YoutubeID``; needs ``video_root``), a folder written by
            ``viclip prepare`` (rows keyed by ``source_video``), or clips in Python (paths,
            ``(path, start_sec, end_sec)``, dicts, ``VideoClip``).
        model: a saved ViCLIP folder, a Hub id, or a ``ViCLIPModel`` (then pass ``processor``).
        output_dir: the dataset folder; created, or resumed when it holds embeddings of the same model and
            settings (another model or window raises ``EmbeddingMismatchError``).
        window_sec / stride_sec: embed each clip as overlapping windows (stride defaults to the window)
            covering it, so search can return the moment. Without: one row per clip, sampled like the
            processor's default (``num_frames`` middle frames).
        runner: ``"ray"`` (decoding in CPU tasks, the model in actors) or ``"local"`` (this process).
        ray_address: a Ray cluster to join (``None``: the running instance, or a new local one).
        num_gpus: model actors, one per GPU; ``0`` runs ``num_cpu_actors`` CPU actors of ``cpus_per_actor``.
        dtype: the model's compute dtype (``float32``, ``bfloat16``/``bf16``, ``float16``); embeddings are
            stored as float32.
        optimize: ``"compile"`` runs the video tower through ``torch.compile`` (see :mod:`.optimize`).
        rows_per_part / flush_seconds: a part file is written every ``rows_per_part`` rows or ``flush_seconds``,
            whichever comes first (what a kill can lose).

    Returns:
        An :class:`EmbedResult`; the clips that failed are also in ``output_dir/failures.jsonl``.
    """
    engine = EngineSettings(runner, ray_address, num_gpus, num_cpu_actors, cpus_per_actor, batch_size)
    dtype = canonical_dtype(dtype)
    if stride_sec is not None and window_sec is None:
        raise ValueError("stride_sec needs window_sec")
    if window_sec is not None:
        stride_sec = window_sec if stride_sec is None else stride_sec
    spec, processor = resolve_model(model, processor)
    video_processor = getattr(processor, "video_processor", processor)
    use_ray = runner == "ray"
    if use_ray:
        ray_init(ray_address)
    failures: list[Failure] = []
    source = prepared_shards(inputs)  # None: video files
    if source is not None:
        if window_sec is not None:
            raise ValueError(f"{inputs} holds prepared clips, already cut: window_sec does not apply")
        keys = list(dict.fromkeys(prepared_keys(source)))
    else:
        clips, unmatched = resolve_inputs(inputs, video_root)
        failures += [Failure(where, None, None, reason) for where, reason in unmatched]
        if window_sec is not None:
            clips, probe_failures = _windows(
                clips, window_sec, stride_sec, _ray_probe if use_ray else _local_probe
            )
            failures += probe_failures
        keys = [clip_key(c.path, c.start_sec, c.end_sec) for c in clips]

    store = EmbeddingStore(output_dir)
    info = {
        "format": "viclip-embeddings/1",
        "model": spec.name,
        "model_revision": spec.revision,
        "fingerprint": spec.fingerprint,
        "dtype": dtype,
        "dim": spec.projection_dim(),
        "window_sec": window_sec,
        "stride_sec": stride_sec,
        "num_frames": int(video_processor.num_frames),
        "sampling": str(video_processor.sampling),
    }
    store.open(info)
    stored = store.stored_keys()
    store.drop_rows(_stale_keys(stored))
    stored = store.stored_keys()
    todo = [key for key in keys if key not in stored]
    num_reused = len(keys) - len(todo)

    worker = WorkerSettings(
        spec,
        video_processor,
        dtype,
        device,
        None if runner == "local" or num_gpus else cpus_per_actor,
        optimize,
        batch_size,
    )
    if not todo:
        batches: Iterator[dict[str, np.ndarray]] = iter(())
    elif source is None:  # clips of video files
        rows = BatchSource(
            decode_clips, rows=_clip_columns(todo), decode_kwargs={"video_processor": video_processor}
        )
        batches = embed_batches(rows, worker, engine)
    else:  # prepared shards
        shards = BatchSource(
            decode_prepared_batch,
            parquet_files=source,
            columns=READ_COLUMNS,
            decode_kwargs={"video_processor": video_processor, "todo": set(todo)},
        )
        batches = embed_batches(shards, worker, engine)
    num_embedded, timings = _write_rows(
        store, batches, spec, info["dim"], failures, len(todo), rows_per_part, flush_seconds, progress
    )
    store.write_failures(failures)
    for failure in failures:
        logger.warning("skipped %s: %s", failure.describe(), failure.error)
    return EmbedResult(
        Path(output_dir),
        len(keys),
        num_embedded,
        num_reused,
        failures,
        model_seconds=timings["model_sec"],
        input_wait_seconds=timings["input_wait_sec"],
    )


def _windows(clips, window_sec, stride_sec, probe) -> tuple[list[VideoClip], list[Failure]]:
    paths = list(dict.fromkeys(c.path for c in clips))
    durations, failures = {}, []
    for batch in probe(paths):
        for path, duration, error in zip(batch["path"], batch["duration"], batch["error"]):
            if error:
                failures.append(Failure(str(path), None, None, str(error)))
            else:
                durations[str(path)] = float(duration)
    readable = [c for c in clips if c.path in durations]
    return expand_windows(readable, durations, window_sec, stride_sec), failures


def _stale_keys(stored: dict) -> list:
    """Stored rows whose file has changed since (different size or modification time)."""
    stamps: dict[str, tuple[int, int] | None] = {}
    stale = []
    for key, stamp in stored.items():
        path = key[0]
        if path not in stamps:
            try:
                stat = os.stat(path)
                stamps[path] = (stat.st_size, stat.st_mtime_ns)
            except OSError:
                stamps[path] = None  # not visible from here (a cluster's storage): keep the row
        if stamps[path] is not None and tuple(stamp) != (-1, -1) and stamps[path] != tuple(stamp):
            stale.append(key)
    return stale


def _write_rows(
    store, batches, spec, dim, failures, total, rows_per_part, flush_seconds, progress
) -> tuple[int, dict[str, float]]:
    """Write the model's output batches as parts; ``(rows written, the workers' summed timings)``."""
    from tqdm.auto import tqdm

    timings = {"model_sec": 0.0, "input_wait_sec": 0.0}
    buffer: dict[str, list] = {
        name: [] for name in ("path", "start_sec", "end_sec", "embedding", "file_size", "file_mtime_ns")
    }
    written = 0
    last_flush = time.monotonic()

    def flush() -> None:
        nonlocal written, last_flush
        count = len(buffer["path"])
        if count:
            store.append(
                {**buffer, "model": [spec.name] * count, "model_revision": [spec.revision] * count}, dim
            )
            written += count
            for values in buffer.values():
                values.clear()
        last_flush = time.monotonic()

    with tqdm(total=total, desc="embedding clips", unit="clip", disable=not progress or not total) as bar:
        for batch in batches:
            for name in timings:
                timings[name] += float(np.sum(batch[name]))
            for i, error in enumerate(batch["error"]):
                start, end = optional_seconds(batch["start_sec"][i]), optional_seconds(batch["end_sec"][i])
                if error:
                    failures.append(Failure(str(batch["path"][i]), start, end, str(error)))
                    continue
                buffer["path"].append(str(batch["path"][i]))
                buffer["start_sec"].append(start)
                buffer["end_sec"].append(end)
                buffer["embedding"].append(batch["embedding"][i])
                buffer["file_size"].append(int(batch["file_size"][i]))
                buffer["file_mtime_ns"].append(int(batch["file_mtime_ns"][i]))
            bar.update(len(batch["error"]))
            if len(buffer["path"]) >= rows_per_part or time.monotonic() - last_flush >= flush_seconds:
                flush()
        flush()
    return written, timings
