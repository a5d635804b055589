"""The batch engine of every job that embeds many videos (``viclip embed``, ``viclip score``): decoding in CPU
tasks, the model in actors (one per GPU, or CPU actors), on Ray Data; or the same stages in this process.

A job describes its input rows and how to decode them (:class:`BatchSource`), the model workers
(:class:`WorkerSettings`) and where they run (:class:`EngineSettings`); :func:`embed_batches` yields the model's
output batches: every input column except the pixels, plus ``embedding`` (L2-normalised float32) and the
workers' timings (``model_sec``, ``input_wait_sec``). A row whose ``error`` is not empty is passed through with
a zero embedding: one bad video never stops the run.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..processing import ClipRangeWarning, VideoClip
from .loading import ModelSpec
from .optimize import optimize_for_inference

DTYPES = {
    "float32": "float32",
    "fp32": "float32",
    "bfloat16": "bfloat16",
    "bf16": "bfloat16",
    "float16": "float16",
    "fp16": "float16",
}
# Decoding stops before the processor's rescale and normalisation: the model worker does them on its device,
# so that uint8 frames (a quarter of float32's bytes) travel from the decoding tasks to the model.
FRAMES_BEFORE_NORMALISATION = {"do_rescale": False, "do_normalize": False}


def canonical_dtype(dtype: str) -> str:
    """``"bf16"`` -> ``"bfloat16"`` etc.; an unknown name is an error naming the choices."""
    if dtype not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; choose float32, bfloat16 or float16")
    return DTYPES[dtype]


@dataclass
class WorkerSettings:
    """What a model worker needs: the model, the normalisation it applies on its device (``video_processor``'s
    ``rescale_and_normalize`` settings), the compute dtype and device, its CPU threads and optimisation."""

    spec: ModelSpec
    video_processor: Any
    dtype: str = "float32"
    device: str | None = None
    num_threads: int | None = None
    optimize: str | None = None
    batch_size: int | None = None


@dataclass
class EngineSettings:
    """Where the stages run: ``runner`` "ray" (a cluster at ``ray_address``, or a local instance) or "local"."""

    runner: str = "ray"
    ray_address: str | None = None
    num_gpus: int = 0
    num_cpu_actors: int = 1
    cpus_per_actor: int = 1
    batch_size: int = 8

    def __post_init__(self) -> None:
        if self.runner not in ("ray", "local"):
            raise ValueError(f"runner must be 'ray' or 'local', got {self.runner!r}")

    @property
    def num_actors(self) -> int:
        return self.num_gpus or self.num_cpu_actors


@dataclass
class BatchSource:
    """The rows to embed and how to decode them: ``rows`` (columns of equal length, e.g. path/start_sec/
    end_sec) or ``parquet_files`` (read with ``columns``), each batch passed through ``decode(batch,
    **decode_kwargs)``, which returns the columns plus uint8 ``pixel_values_videos`` and ``error``."""

    decode: Callable[..., dict[str, np.ndarray]]
    rows: dict[str, np.ndarray] | None = None
    parquet_files: list[str] | None = None
    columns: list[str] | None = None
    decode_kwargs: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return 0 if self.rows is None else len(next(iter(self.rows.values())))


class VideoEmbeddingWorker:
    """Runs the model on decoded batches (a Ray actor, or called in-process): uint8 frames, resized and cropped,
    which it rescales and normalises on its device with the video processor's own ``rescale_and_normalize``."""

    def __init__(self, settings: WorkerSettings):
        import torch

        if settings.num_threads:
            torch.set_num_threads(settings.num_threads)
        self.dtype = getattr(torch, settings.dtype)
        self.device = torch.device(settings.device or ("cuda" if torch.cuda.is_available() else "cpu"))
        model = settings.spec.load(self.dtype, self.device)
        self.model = optimize_for_inference(model, settings.optimize)
        self.video_processor = settings.video_processor
        self.dim = int(model.config.projection_dim)
        # A compiled model compiles again for every new batch size: short batches are padded to the full one.
        self.pad_to = settings.batch_size if settings.optimize == "compile" else None
        self._last_batch_end: float | None = None  # the first batch's wait is start-up, not starvation

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        import torch
        import torch.nn.functional as F

        start = time.perf_counter()
        waited = 0.0 if self._last_batch_end is None else start - self._last_batch_end
        ok = batch["error"] == ""
        embeddings = np.zeros((len(ok), self.dim), dtype=np.float32)
        if ok.any():
            pixels = torch.from_numpy(np.asarray(batch["pixel_values_videos"])[ok])
            num_ok = len(pixels)
            if self.pad_to and num_ok < self.pad_to:
                pixels = torch.cat([pixels, pixels[-1:].expand(self.pad_to - num_ok, *pixels.shape[1:])])
            processor = self.video_processor
            with torch.inference_mode():
                pixels = processor.rescale_and_normalize(
                    pixels.to(self.device),
                    processor.do_rescale,
                    processor.rescale_factor,
                    processor.do_normalize,
                    processor.image_mean,
                    processor.image_std,
                )
                features = self.model.get_video_features(
                    pixel_values_videos=pixels.to(self.dtype)
                ).pooler_output[:num_ok]
            embeddings[ok] = F.normalize(features.float(), dim=-1).cpu().numpy()  # .cpu() waits for the GPU
        self._last_batch_end = time.perf_counter()
        # The batch's timings, spread over its rows so that they survive Ray Data's re-batching.
        count = len(ok)
        return {
            **{k: v for k, v in batch.items() if k != "pixel_values_videos"},
            "embedding": embeddings,
            "model_sec": np.full(count, (self._last_batch_end - start) / count),
            "input_wait_sec": np.full(count, waited / count),
        }


def optional_seconds(value: float | None) -> float | None:
    """A time column's value: ``None`` for NaN (no bound)."""
    return None if value is None or math.isnan(value) else float(value)


def uint8_frames(pixel_values: Any) -> np.ndarray:
    """One clip's ``pixel_values_videos`` made with :data:`FRAMES_BEFORE_NORMALISATION` -> uint8 numpy."""
    if str(pixel_values.dtype) != "torch.uint8":
        raise TypeError(
            f"the video processor gave {pixel_values.dtype} frames before normalisation, not uint8"
        )
    return pixel_values.numpy()


def decode_clips(
    batch: dict[str, np.ndarray],
    video_processor: Any,
    decode_limits: dict[str, Any] | None = None,
    decoding_note: str | None = None,
) -> dict[str, np.ndarray]:
    """Decode each clip of ``batch`` (columns path/start_sec/end_sec, NaN = none; other columns pass through)
    into uint8 frames, resized and cropped by ``video_processor`` (the model worker normalises them), with the
    file's size and modification time; a clip that cannot be read gets zero pixels and its ``error``.

    ``decode_limits``: the processor's ``decode_timeout`` / ``max_pixels`` (not given: the reader's defaults).
    ``decoding_note``: a file that names the clip being decoded while it is (see
    :meth:`~viclip.inference.store.EmbeddingStore.crashed_clips`); removed when the batch is done."""
    count = len(batch["path"])
    size = video_processor.size
    shape = (video_processor.num_frames, 3, size["height"], size["width"])
    pixels = np.zeros((count, *shape), dtype=np.uint8)
    errors, file_sizes, mtimes = [""] * count, np.zeros(count, np.int64), np.zeros(count, np.int64)
    try:
        for i in range(count):
            path = str(batch["path"][i])
            try:
                stat = os.stat(path)  # before decoding: a file rewritten meanwhile gets a newer stamp
                file_sizes[i], mtimes[i] = stat.st_size, stat.st_mtime_ns
                clip = VideoClip(
                    path, optional_seconds(batch["start_sec"][i]), optional_seconds(batch["end_sec"][i])
                )
                if decoding_note is not None:
                    _note_decoding(decoding_note, clip, stat)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ClipRangeWarning)
                    out = video_processor(
                        videos=[clip],
                        return_tensors="pt",
                        num_threads=1,
                        **FRAMES_BEFORE_NORMALISATION,
                        **(decode_limits or {}),
                    )
                pixels[i] = uint8_frames(out["pixel_values_videos"][0])
            except Exception as error:  # one bad video never stops the run: it is listed instead
                errors[i] = f"{type(error).__name__}: {error}"
    finally:  # a Python exception or Ctrl-C is not a crash in the decoder: no note is left
        if decoding_note is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(decoding_note)
    return {
        **batch,
        "path": np.asarray(batch["path"]).astype(str),
        "start_sec": np.asarray(batch["start_sec"], dtype=np.float64),
        "end_sec": np.asarray(batch["end_sec"], dtype=np.float64),
        "pixel_values_videos": pixels,
        "file_size": file_sizes,
        "file_mtime_ns": mtimes,
        "error": np.asarray(errors, dtype=object).astype(str),
    }


def _note_decoding(note: str, clip: VideoClip, stat: os.stat_result) -> None:
    """Name ``clip`` in ``note`` before decoding it: if native code kills the process, the next run knows which."""
    entry = {"path": clip.path, "start_sec": clip.start_sec, "end_sec": clip.end_sec,
             "file_size": stat.st_size, "file_mtime_ns": stat.st_mtime_ns}  # fmt: skip
    temporary = f"{note}.tmp"
    with open(temporary, "w", encoding="utf-8") as file:
        json.dump(entry, file)
    os.replace(temporary, note)


# --- runners ------------------------------------------------------------------------------------------------------
def ray_init(ray_address: str | None) -> None:
    """Join ``ray_address`` (``None``: the running instance, or a new local one), quietly."""
    import ray

    from ..data.ray_runtime import init_ray, quiet_ray_data

    if not ray.is_initialized():
        init_ray(address=ray_address)
    quiet_ray_data()


def embed_batches(
    source: BatchSource, worker: WorkerSettings, engine: EngineSettings
) -> Iterator[dict[str, np.ndarray]]:
    """The model's output batches for every row of ``source`` (see the module's docstring)."""
    if engine.runner == "local":
        return _local_batches(source, worker, engine.batch_size)
    ray_init(engine.ray_address)
    return _ray_batches(source, worker, engine)


def _slice(rows: dict[str, np.ndarray], start: int, stop: int) -> dict[str, np.ndarray]:
    return {name: values[start:stop] for name, values in rows.items()}


def _local_batches(source: BatchSource, settings: WorkerSettings, batch_size: int) -> Iterator[dict]:
    worker = VideoEmbeddingWorker(settings)
    if source.rows is not None:
        for start in range(0, len(source), batch_size):
            yield worker(
                source.decode(_slice(source.rows, start, start + batch_size), **source.decode_kwargs)
            )
        return
    import pyarrow.parquet as pq

    for file in source.parquet_files or []:
        for record_batch in pq.ParquetFile(file).iter_batches(batch_size=batch_size, columns=source.columns):
            decoded = source.decode(record_batch.to_pydict(), **source.decode_kwargs)
            if len(decoded["path"]):
                yield worker(decoded)


def _ray_batches(source: BatchSource, settings: WorkerSettings, engine: EngineSettings) -> Iterator[dict]:
    import ray

    if not engine.num_gpus:
        total = ray.cluster_resources().get("CPU", 0)
        if engine.num_cpu_actors * engine.cpus_per_actor >= total:
            raise ValueError(
                f"{engine.num_cpu_actors} CPU model actor(s) of {engine.cpus_per_actor} CPU(s) take all "
                f"{total:g} CPUs of the Ray cluster and leave none to decode; use fewer actors"
            )
    batch_size = engine.batch_size
    if source.rows is not None:
        items = [{k: v[i] for k, v in source.rows.items()} for i in range(len(source))]
        ds = ray.data.from_items(items, override_num_blocks=max(1, min(len(items) // batch_size, 4096)))
    else:
        ds = ray.data.read_parquet(source.parquet_files).select_columns(source.columns)
    ds = ds.map_batches(
        source.decode, fn_kwargs=source.decode_kwargs, batch_size=batch_size, num_cpus=1, batch_format="numpy"
    )
    ds = ds.map_batches(
        VideoEmbeddingWorker,
        fn_constructor_args=(settings,),
        batch_size=batch_size,
        compute=ray.data.ActorPoolStrategy(size=engine.num_actors),
        num_gpus=1 if engine.num_gpus else 0,
        num_cpus=engine.cpus_per_actor,
        # Reserving the weights' memory is also what keeps Ray from fusing decoding into the model actors.
        memory=settings.spec.weights_bytes(),
        batch_format="numpy",
    )
    yield from ds.iter_batches(batch_size=None, batch_format="numpy")
