"""``embed_videos``: clips -> L2-normalised ViCLIP video embeddings in a resumable Parquet dataset, on Ray Data.

Stages: (window mode only) probe each video's duration in CPU tasks and cut windows; decode and preprocess each
clip in CPU tasks with the model's video processor (or read its frames from prepared shards); run
``get_video_features`` in actors (one per GPU, or CPU actors); the driver writes the rows in atomic part files as
they arrive (see :mod:`viclip.inference.store`). ``engine="local"`` runs the same stages in this process, without
Ray (small folders, tests, the folder search); the default chooses the faster of the two here.

The job is a plan (:class:`EmbedPlan`: what to embed, with which model, on which engine, where) made by small
steps, then run: open the store, dispatch the clips not done yet to the engine, write the rows.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..data.run_lock import holds_run_lock
from ..inference.dtype_choice import DtypeChoice, choose_dtype
from ..inference.engine import (
    BatchSource,
    EngineSettings,
    WorkerSettings,
    decode_clips,
    embed_batches,
    optional_seconds,
    ray_init,
)
from ..inference.engine_choice import EngineChoice, choose_engine_settings
from ..inference.loading import ModelSpec, resolve_model
from ..inference.prepared import READ_COLUMNS, decode_prepared_batch, prepared_keys, prepared_shards
from ..inference.store import (
    CRASHED_REASON,
    DECODING_NOTE_FILE,
    FORMAT,
    ClipKey,
    EmbeddingStore,
    Failure,
    clip_key,
)
from ..processing import ClipRangeWarning, VideoClip
from ..processing.video_reading import DEFAULT_DECODE_TIMEOUT, DEFAULT_MAX_PIXELS
from .inputs import expand_windows, probe_extent, resolve_inputs


@dataclass
class EmbedResult:
    """What :func:`embed_videos` did."""

    output_dir: Path
    # Clips asked for (after windowing), each input that names none counted as one (a video that cannot be cut
    # into windows, an InternVid row without its video): num_embedded + num_reused + len(failures).
    num_clips: int
    num_embedded: int  # embedded by this run
    num_reused: int  # already in the dataset
    failures: list[Failure] = field(default_factory=list)
    # Summed over the model workers: running the model, and waiting for decoded clips between batches.
    model_seconds: float = 0.0
    input_wait_seconds: float = 0.0
    engine: EngineChoice | None = None  # the engine it ran on, and why
    dtype: DtypeChoice | None = None  # the compute dtype, and why

    @property
    def model_busy_fraction(self) -> float | None:
        """The share of the model workers' time spent running the model (after their first batch); ``None``
        when nothing was embedded. Well below 1, decoding (or the writer) is the bottleneck: add CPUs."""
        total = self.model_seconds + self.input_wait_seconds
        return self.model_seconds / total if total > 0 and self.num_embedded else None

    def summary(self) -> str:
        text = (
            f"{self.num_clips} clips: {self.num_embedded} embedded, {self.num_reused} already done, "
            f"{len(self.failures)} failed -> {self.output_dir}"
        )
        busy = self.model_busy_fraction
        if busy is not None:
            text += f"; the model ran {busy:.0%} of the time and waited {1 - busy:.0%} for decoded clips"
        if self.dtype is not None:
            text += f"; {self.dtype.summary()}"
        if self.engine is not None:
            text += f"; {self.engine.summary()}"
        return text


# --- the plan -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Windowing:
    """Cut each clip into windows of ``window_sec`` every ``stride_sec`` (``None``: one row per clip)."""

    window_sec: float | None = None
    stride_sec: float | None = None

    @classmethod
    def of(cls, window_sec: float | None, stride_sec: float | None) -> Windowing:
        """The stride defaults to the window; a stride without a window is an error."""
        if stride_sec is not None and window_sec is None:
            raise ValueError("stride_sec needs window_sec")
        return cls(window_sec, window_sec if stride_sec is None else stride_sec)


@dataclass(frozen=True)
class ClipSelection:
    """What to embed: the clip keys in order, the inputs that named no readable clip, and the prepared shards the
    clips' frames come from (``None``: video files, decoded)."""

    keys: list[ClipKey]
    failures: list[Failure]
    prepared_files: list[str] | None = None


@dataclass(frozen=True)
class ModelPlan:
    """With which model: its spec, the video processor that decodes for it, and the worker's settings."""

    spec: ModelSpec
    video_processor: Any
    dtype: str
    device: str | None = None
    optimize: str | None = None
    decode_limits: dict[str, Any] = field(default_factory=dict)  # the processor's decode_timeout/max_pixels
    dtype_choice: DtypeChoice | None = None  # why ``dtype``


@dataclass(frozen=True)
class OutputPlan:
    """Where and how often: the dataset folder, a part every ``rows_per_part`` rows or ``flush_seconds``."""

    output_dir: Path
    rows_per_part: int = 1024
    flush_seconds: float = 60.0
    progress: bool = True


@dataclass(frozen=True)
class EmbedPlan:
    """A whole job: what (:class:`ClipSelection`), with which model, on which engine, where."""

    clips: ClipSelection
    windowing: Windowing
    model: ModelPlan
    engine: EngineSettings
    output: OutputPlan
    choice: EngineChoice | None = None  # why ``engine`` (None: given, not chosen)

    def store_info(self) -> dict[str, Any]:
        """The dataset's ``embedding_info.json``: what a rerun must match to add rows."""
        spec, video_processor = self.model.spec, self.model.video_processor
        return {
            "format": FORMAT,
            "model": spec.name,
            "model_revision": spec.revision,
            "fingerprint": spec.fingerprint,
            "dtype": self.model.dtype,
            "dim": spec.projection_dim(),
            "window_sec": self.windowing.window_sec,
            "stride_sec": self.windowing.stride_sec,
            "num_frames": int(video_processor.num_frames),
            "sampling": str(video_processor.sampling),
        }

    def worker_settings(self) -> WorkerSettings:
        engine = self.engine
        cpu_actor = engine.runner == "ray" and not engine.num_gpus
        return WorkerSettings(
            spec=self.model.spec,
            video_processor=self.model.video_processor,
            dtype=self.model.dtype,
            device=self.model.device,
            num_threads=engine.cpus_per_actor if cpu_actor else None,
            optimize=self.model.optimize,
            batch_size=engine.batch_size,
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
    engine: str | None = None,
    ray_address: str | None = None,
    num_gpus: int = 0,
    num_cpu_actors: int = 1,
    cpus_per_actor: int | None = None,
    dtype: str = "float32",
    device: str | None = None,
    batch_size: int = 8,
    optimize: str | None = None,
    decode_timeout: float | None = DEFAULT_DECODE_TIMEOUT,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
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
        engine: ``"ray"`` (decoding in CPU tasks, the model in actors), ``"local"`` (this process), or
            ``None``/``"auto"``: the faster here (:func:`viclip.inference.engine_choice.choose_engine`: in
            process on one machine without a GPU and with few cores, else Ray); the result says which and why.
        ray_address: a Ray cluster to join (``None``: the running instance, or a new local one).
        num_gpus: model actors, one per GPU; ``0`` runs ``num_cpu_actors`` CPU actors of ``cpus_per_actor``
            (``None``: the engine choice's, half the cores).
        dtype: the model's compute dtype (``float32``, ``bfloat16``/``bf16``, ``float16``), or ``"auto"``:
            bfloat16 where the GPU or CPU computes it natively, else float32
            (:func:`viclip.inference.dtype_choice.choose_dtype`; the result says which and why); embeddings
            are stored as float32.
        optimize: ``"compile"`` runs the video tower through ``torch.compile`` (see
            :mod:`viclip.inference.optimize`).
        decode_timeout / max_pixels: the most one video may cost: seconds to decode it (``None``: no deadline)
            and pixels per frame, refused from the header (``None``: no budget); past either it is listed as
            failed and the job goes on.
        rows_per_part / flush_seconds: a part file is written every ``rows_per_part`` rows or ``flush_seconds``,
            whichever comes first (what a kill can lose).

    Returns:
        An :class:`EmbedResult`; the clips that failed are also in ``output_dir/failures.jsonl``.

    (Over 60 lines only for its keywords and their documentation: the body plans, then runs the steps.)
    """
    windowing = Windowing.of(window_sec, stride_sec)
    limits = _decode_limits(decode_timeout, max_pixels)
    model_plan = _plan_model(
        model, processor, dtype=dtype, device=device, optimize=optimize, limits=limits, gpus=num_gpus > 0
    )
    clips = _select_clips(inputs, video_root, windowing)
    settings, choice = choose_engine_settings(
        engine,
        ray_address=ray_address,
        num_gpus=num_gpus,
        num_cpu_actors=num_cpu_actors,
        cpus_per_actor=cpus_per_actor,
        batch_size=batch_size,
        num_clips=len(clips.keys) if windowing.window_sec is None else None,  # windows: not known yet
    )
    if settings.runner == "ray":
        ray_init(ray_address)
    if windowing.window_sec is not None:
        clips = _cut_windows(clips, windowing, _ray_probe if settings.runner == "ray" else _local_probe)
    output = OutputPlan(Path(output_dir), rows_per_part, flush_seconds, progress)
    return _run(EmbedPlan(clips, windowing, model_plan, settings, output, choice))


def _plan_model(
    model: Any,
    processor: Any,
    *,
    dtype: str,
    device: str | None,
    optimize: str | None,
    limits: dict,
    gpus: bool = False,
) -> ModelPlan:
    spec, processor = resolve_model(model, processor)
    video_processor = getattr(processor, "video_processor", processor)
    choice = choose_dtype(dtype, device or ("cuda" if gpus else None), optimize=optimize)
    return ModelPlan(spec, video_processor, choice.dtype, device, optimize, limits, choice)


def _decode_limits(decode_timeout: float | None, max_pixels: int | None) -> dict[str, Any]:
    """The video processor's keywords for the limits (its ``math.inf`` is what ``None`` means here: none)."""
    for name, value in (("decode_timeout", decode_timeout), ("max_pixels", max_pixels)):
        if value is not None and not value > 0:
            raise ValueError(f"{name} must be positive or None, got {value!r}")
    return {
        "decode_timeout": math.inf if decode_timeout is None else float(decode_timeout),
        "max_pixels": math.inf if max_pixels is None else int(max_pixels),
    }


def _select_clips(inputs: Any, video_root: Any, windowing: Windowing) -> ClipSelection:
    """The clips of ``inputs`` (not cut into windows yet) and the inputs that name none."""
    source = prepared_shards(inputs)
    if source is not None:
        if windowing.window_sec is not None:
            raise ValueError(f"{inputs} holds prepared clips, already cut: window_sec does not apply")
        return ClipSelection(list(dict.fromkeys(prepared_keys(source))), [], source)
    clips, unmatched = resolve_inputs(inputs, video_root)
    failures = [Failure(where, None, None, reason) for where, reason in unmatched]
    return ClipSelection([clip_key(c.path, c.start_sec, c.end_sec) for c in clips], failures)


def _cut_windows(
    selection: ClipSelection, windowing: Windowing, probe: Callable[[list[str]], Iterator[dict]]
) -> ClipSelection:
    """``selection``'s clips as windows; a video whose duration cannot be probed is listed as failed."""
    clips, probe_failures = _windows([VideoClip(*key) for key in selection.keys], windowing, probe)
    keys = [clip_key(c.path, c.start_sec, c.end_sec) for c in clips]
    return ClipSelection(keys, [*selection.failures, *probe_failures])


def _run(plan: EmbedPlan) -> EmbedResult:
    """Open the store, embed the clips it does not hold yet, write them; the failures are listed."""
    store = EmbeddingStore(plan.output.output_dir)
    info = plan.store_info()
    todo, num_reused = _open_store(store, info, plan.clips.keys)
    todo, crashed = _without_crashed_clips(store, todo)
    writer = _RowWriter(store, plan.model.spec, int(info["dim"]), plan.output)
    failures = [*plan.clips.failures, *crashed]
    failures += writer.write(_dispatch(plan, todo, store), total=len(todo))
    store.write_failures(failures)  # listed there and in the result; the caller prints them (once)
    return EmbedResult(
        plan.output.output_dir,
        len(plan.clips.keys) + len(plan.clips.failures),
        writer.written,
        num_reused,
        failures,
        model_seconds=writer.model_seconds,
        input_wait_seconds=writer.input_wait_seconds,
        engine=plan.choice,
        dtype=plan.model.dtype_choice,
    )


def _open_store(
    store: EmbeddingStore, info: dict[str, Any], keys: list[ClipKey]
) -> tuple[list[ClipKey], int]:
    """Open (or create) the dataset, drop its rows of changed files; ``(keys still to embed, keys reused)``."""
    store.open(info)
    store.drop_stale_rows()
    stored = store.stored_keys()
    todo = [key for key in keys if key not in stored]
    return todo, len(keys) - len(todo)


def _without_crashed_clips(store: EmbeddingStore, todo: list[ClipKey]) -> tuple[list[ClipKey], list[Failure]]:
    """``todo`` less the clips an earlier run died while decoding (their files unchanged), which are failures."""
    crashed = store.crashed_clips()
    poisoned = {key for key in todo if key in crashed and _file_stamp(key[0]) == crashed[key]}
    return [k for k in todo if k not in poisoned], [
        Failure(*k, CRASHED_REASON) for k in todo if k in poisoned
    ]


def _file_stamp(path: str) -> tuple[int, int] | None:
    """``(size, mtime_ns)`` of ``path``, or None when it cannot be seen."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns


def _dispatch(plan: EmbedPlan, todo: list[ClipKey], store: EmbeddingStore) -> Iterator[dict[str, np.ndarray]]:
    """The model's output batches for ``todo``, decoded from the video files or read from the prepared shards."""
    if not todo:
        return iter(())
    video_processor = plan.model.video_processor
    if plan.clips.prepared_files is None:
        limits = plan.model.decode_limits
        # In-process decoding names its clip in the folder first, so that a crash in FFmpeg is not repeated by the
        # rerun; Ray's decoding runs in worker processes (a crash there fails the task, not the driver).
        note = str(store.root / DECODING_NOTE_FILE) if plan.engine.runner == "local" else None
        source = BatchSource(
            decode_clips,
            rows=_clip_columns(todo),
            decode_kwargs={
                "video_processor": video_processor,
                "decode_limits": limits,
                "decoding_note": note,
            },
        )
    else:
        source = BatchSource(
            decode_prepared_batch,
            parquet_files=plan.clips.prepared_files,
            columns=READ_COLUMNS,
            decode_kwargs={"video_processor": video_processor, "todo": set(todo)},
        )
    return embed_batches(source, plan.worker_settings(), plan.engine)


# --- the steps' helpers -------------------------------------------------------------------------------------------
def probe_batch(batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each video's extent: ``duration`` of its frames, ``declared`` by its header when longer (NaN: the same)."""
    nan = float("nan")
    durations, declared, errors = [], [], []
    for path in batch["path"]:
        try:
            extent = probe_extent(str(path))
            durations.append(extent.duration)
            declared.append(nan if extent.declared is None else extent.declared)
            errors.append("")
        except Exception as error:
            durations.append(nan)
            declared.append(nan)
            errors.append(f"{type(error).__name__}: {error}")
    return {
        "path": np.asarray(batch["path"]).astype(str),
        "duration": np.asarray(durations, dtype=np.float64),
        "declared": np.asarray(declared, dtype=np.float64),
        "error": np.asarray(errors),
    }


def _local_probe(paths: list[str]) -> Iterator[dict[str, np.ndarray]]:
    for start in range(0, len(paths), 64):
        yield probe_batch({"path": np.asarray(paths[start : start + 64])})


def _ray_probe(paths: list[str]) -> Iterator[dict[str, np.ndarray]]:
    import ray

    ds = ray.data.from_items([{"path": p} for p in paths], override_num_blocks=min(len(paths), 256))
    yield from ds.map_batches(probe_batch, batch_size=16, num_cpus=1, batch_format="numpy").iter_batches(
        batch_size=None, batch_format="numpy"
    )


def _windows(
    clips: list[VideoClip], windowing: Windowing, probe: Callable[[list[str]], Iterator[dict]]
) -> tuple[list[VideoClip], list[Failure]]:
    paths = list(dict.fromkeys(c.path for c in clips))
    if not paths:
        return [], []
    durations, failures = {}, []
    for batch in probe(paths):
        for path, duration, declared, error in zip(
            batch["path"], batch["duration"], batch["declared"], batch["error"]
        ):
            if error:
                failures.append(Failure(str(path), None, None, str(error)))
                continue
            durations[str(path)] = float(duration)
            if not np.isnan(declared):
                warnings.warn(
                    f"{path}: the file's frames stop at {duration:.3f} s but it declares {declared:.3f} s "
                    f"(truncated?); its windows are clamped to [0, {duration:.3f}) s",
                    ClipRangeWarning,
                    stacklevel=2,
                )
    readable = [c for c in clips if c.path in durations]
    return expand_windows(readable, durations, windowing.window_sec, windowing.stride_sec), failures


def _clip_columns(keys: list[ClipKey]) -> dict[str, np.ndarray]:
    nan = float("nan")
    return {
        "path": np.asarray([path for path, _, _ in keys], dtype=object).astype(str),
        "start_sec": np.asarray([nan if start is None else start for _, start, _ in keys], dtype=np.float64),
        "end_sec": np.asarray([nan if end is None else end for _, _, end in keys], dtype=np.float64),
    }


_ROW_COLUMNS = ("path", "start_sec", "end_sec", "embedding", "file_size", "file_mtime_ns")


class _RowWriter:
    """Buffers the model's output rows and writes them as part files; counts rows and sums the workers' timings."""

    def __init__(self, store: EmbeddingStore, spec: ModelSpec, dim: int, output: OutputPlan) -> None:
        self.store, self.spec, self.dim, self.output = store, spec, dim, output
        self.buffer: dict[str, list] = {name: [] for name in _ROW_COLUMNS}
        self.written = 0
        self.model_seconds = self.input_wait_seconds = 0.0
        self._last_flush = time.monotonic()

    def write(self, batches: Iterator[dict[str, np.ndarray]], *, total: int) -> list[Failure]:
        """Write every row of ``batches``; returns the rows that failed (their ``error`` is not empty)."""
        from tqdm.auto import tqdm

        failures: list[Failure] = []
        disable = not self.output.progress or not total
        with tqdm(total=total, desc="embedding clips", unit="clip", disable=disable) as bar:
            for batch in batches:
                failures += self._add(batch)
                bar.update(len(batch["error"]))
                if self._due():
                    self._flush()
            self._flush()
        return failures

    def _add(self, batch: dict[str, np.ndarray]) -> list[Failure]:
        self.model_seconds += float(np.sum(batch["model_sec"]))
        self.input_wait_seconds += float(np.sum(batch["input_wait_sec"]))
        failures = []
        for i, error in enumerate(batch["error"]):
            start, end = optional_seconds(batch["start_sec"][i]), optional_seconds(batch["end_sec"][i])
            if error:
                failures.append(Failure(str(batch["path"][i]), start, end, str(error)))
                continue
            row = (str(batch["path"][i]), start, end, batch["embedding"][i])
            stamps = (int(batch["file_size"][i]), int(batch["file_mtime_ns"][i]))
            for name, value in zip(_ROW_COLUMNS, (*row, *stamps)):
                self.buffer[name].append(value)
        return failures

    def _due(self) -> bool:
        waited = time.monotonic() - self._last_flush
        return len(self.buffer["path"]) >= self.output.rows_per_part or waited >= self.output.flush_seconds

    def _flush(self) -> None:
        count = len(self.buffer["path"])
        if count:
            names = {"model": [self.spec.name] * count, "model_revision": [self.spec.revision] * count}
            self.store.append({**self.buffer, **names}, self.dim)
            self.written += count
            for values in self.buffer.values():
                values.clear()
        self._last_flush = time.monotonic()
