"""Prepare InternVid once for training: annotation rows + videos -> training-ready Parquet shards, on Ray Data.

Training from source videos seeks and decodes 720p for every clip of every epoch; a prepared clip is a few JPEG
frames at a short side of 320 (see :mod:`.prepared_format`), read back by :func:`viclip.data.load_prepared`.

How the job runs:

1. the driver streams the annotation rows (Hub or local files, as ``load_internvid`` reads them) and cuts them
   into shards of ``rows_per_shard`` consecutive rows; shards whose record exists are done and are not sent;
2. Ray Data runs one task per shard (:func:`.prepare_shard.prepare_shard`: ``load_internvid``'s parsing, filters
   and video lookup, one decode per clip, the Parquet file and the record written by rename);
3. the driver gathers every record into ``manifest.json`` and ``skipped.jsonl``, and writes the dataset card.

A failing row is skipped with its reason; a task that fails as a whole (a crashed worker) leaves its shard
without a record: the manifest lists it as pending and a rerun does it. Killed at any point, a rerun with the same
arguments resumes: finished shards are kept, no row is written twice, nothing is lost.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..processing.video_reading import DEFAULT_DECODE_TIMEOUT, DEFAULT_MAX_PIXELS
from .annotations import AnnotationFilter
from .caption_list import CaptionListSource
from .disk_full import DiskFullError, stop_on_full_disk
from .internvid import HUB_CONFIG, HUB_REPO, AnnotationSource, iter_source_rows
from .model_processor import ProcessorSource, processor_frames, resolve_processor
from .prepare_shard import PrepareSettings, atomic_write, prepare_shard, write_json_atomic
from .prepared_format import (
    CARD_FILE,
    CONFIG_FILE,
    FORMAT_VERSION,
    MANIFEST_FILE,
    RECORDS_DIR,
    SHARDS_DIR,
    SKIPPED_FILE,
    dataset_card,
    shard_name,
)
from .ray_runtime import cluster_cpus, import_ray, quiet_ray_data, ray_session
from .run_lock import holds_run_lock
from .video_locator import VideoLocator

logger = logging.getLogger(__name__)

SHARD_TASK_ATTEMPTS = 4
"""Ray Data reruns a shard's task whose worker died (killed, out of memory, a node lost), without limit: a video
that crashes its worker every time would stall the job; after this many starts the shard is given up (pending)."""


@dataclass(frozen=True)
class PrepareReport:
    """What the folder holds after a run (over every run that wrote into it)."""

    output_dir: str
    rows_read: int
    rows_written: int
    rows_skipped: dict[str, int]
    shards_done: int
    shards_pending: list[int]
    shards_this_run: int

    @property
    def complete(self) -> bool:
        return not self.shards_pending

    def summary(self) -> str:
        skipped = ", ".join(f"{k}={v}" for k, v in sorted(self.rows_skipped.items())) or "none"
        state = "complete" if self.complete else f"{len(self.shards_pending)} shards pending: rerun to finish"
        return (
            f"{self.rows_written} clips written from {self.rows_read} rows, skipped: {skipped}; "
            f"{self.shards_done} shards ({self.shards_this_run} this run), {state}"
        )


def _run_shard_task(
    item: dict[str, Any], settings: PrepareSettings, output_dir: str, decode_limits: dict[str, Any]
) -> dict[str, Any]:
    """The Ray Data map function: one work item (a shard's rows) -> the shard's summary row.

    A full disk is returned (``disk_full``: the message), not raised: Ray Data would count it as one failed
    block and go on failing every other shard; the driver stops the job instead.
    """
    shard = int(item["shard"])
    summary = {"shard": shard, "rows_read": 0, "rows_written": 0, "disk_full": "", "gave_up": False}
    if _start_attempt(Path(output_dir), shard) > SHARD_TASK_ATTEMPTS:
        return {**summary, "gave_up": True}
    # The rows were pickled by this job's own driver (trusted): they may hold bytes, NaN, any column type.
    rows = pickle.loads(item["rows"])
    try:
        record = prepare_shard(shard, rows, settings, output_dir, decode_limits)
    except DiskFullError as error:
        return {**summary, "disk_full": str(error)}
    return {**summary, "rows_read": record["rows_read"], "rows_written": record["rows_written"]}


def _start_attempt(output_dir: Path, shard: int) -> int:
    """Count one more start of ``shard``'s task in this run (a hidden temp file, cleared when a run starts)."""
    counter = output_dir / RECORDS_DIR / f".{shard_name(shard)}.attempts.tmp"
    try:
        counter.parent.mkdir(parents=True, exist_ok=True)
        with open(counter, "ab") as f:  # one byte per start: appends from one task at a time
            f.write(b".")
            return f.tell()
    except OSError:  # cannot count (a full disk is reported by the shard's own writes)
        return 1


def _work_items(
    source: AnnotationSource | CaptionListSource, rows_per_shard: int, done: set[int], max_rows: int | None
) -> Iterator[dict[str, Any]]:
    """The shards not done yet, as ``{"shard", "rows"}``; consecutive source rows, in order."""
    shard, rows = 0, []

    def item():
        return {"shard": shard, "rows": pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL)}

    for index, raw in iter_source_rows(source, 0, 1):
        if max_rows is not None and index >= max_rows:
            break
        if index // rows_per_shard != shard:
            if rows and shard not in done:
                yield item()
            shard, rows = index // rows_per_shard, []
        rows.append((index, raw))
    if rows and shard not in done:
        yield item()


def _done_shards(output_dir: Path) -> set[int]:
    return {int(p.stem.split("-")[1]) for p in (output_dir / RECORDS_DIR).glob("shard-*.json")}


def _remove_stale_temp_files(output_dir: Path) -> None:
    """Leftovers of a killed run (files are written under a hidden temp name, then renamed)."""
    for folder in (output_dir, output_dir / SHARDS_DIR, output_dir / RECORDS_DIR):
        for temp in folder.glob(".*.tmp"):
            temp.unlink(missing_ok=True)


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _check_config(output_dir: Path, config: dict[str, Any]) -> None:
    path = output_dir / CONFIG_FILE
    if path.is_file():
        saved = json.loads(path.read_text())
        if saved != config:
            ours, theirs = _flatten(config), _flatten(saved)
            changed = sorted(k for k in ours.keys() | theirs.keys() if ours.get(k) != theirs.get(k))
            raise ValueError(
                f"{output_dir} was prepared with other settings ({', '.join(changed)} differ); "
                "rerun with the same arguments to resume, or use a new output folder"
            )
    else:
        write_json_atomic(path, config)


def _write_manifest(output_dir: Path, config: dict[str, Any], pending: Sequence[int]) -> PrepareReport:
    records = [json.loads(p.read_text()) for p in sorted((output_dir / RECORDS_DIR).glob("shard-*.json"))]
    skipped_rows = sorted((row for r in records for row in r["skipped"]), key=lambda row: row["row_index"])
    reasons: dict[str, int] = {}
    for row in skipped_rows:
        reasons[row["reason"]] = reasons.get(row["reason"], 0) + 1
    manifest = {
        "format_version": FORMAT_VERSION,
        "settings": config["settings"],
        "annotations": config["annotations"],
        "rows_read": sum(r["rows_read"] for r in records),
        "rows_written": sum(r["rows_written"] for r in records),
        "rows_skipped": reasons,
        "shards": [
            {k: r[k] for k in ("shard", "file", "first_row", "rows_read", "rows_written")} for r in records
        ],
        "shards_pending": list(pending),
        "complete": not pending,
    }

    def write_skipped(temp):
        with open(temp, "w", encoding="utf-8") as f:
            for row in skipped_rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")

    atomic_write(output_dir / SKIPPED_FILE, write_skipped)
    write_json_atomic(output_dir / MANIFEST_FILE, manifest)
    atomic_write(output_dir / CARD_FILE, lambda temp: Path(temp).write_text(dataset_card(manifest)))
    return PrepareReport(
        output_dir=str(output_dir),
        rows_read=manifest["rows_read"],
        rows_written=manifest["rows_written"],
        rows_skipped=reasons,
        shards_done=len(records),
        shards_pending=list(pending),
        shards_this_run=0,
    )


@holds_run_lock("output_dir")
def prepare_internvid(
    output_dir: str | os.PathLike,
    *,
    video_root: str | os.PathLike | None = None,
    data_files: str | os.PathLike | Sequence[str | os.PathLike] | None = None,
    clips: str | os.PathLike | None = None,
    path: str | None = HUB_REPO,
    name: str | None = HUB_CONFIG,
    split: str | None = None,
    token: str | bool | None = None,
    filters: AnnotationFilter | None = None,
    processor: ProcessorSource | None = None,
    train_choices: int = 3,
    short_side: int = 320,
    jpeg_quality: int = 90,
    rows_per_shard: int = 1000,
    max_rows: int | None = None,
    ray_address: str | None = None,
    num_cpus: int | None = None,
    decode_timeout: float | None = DEFAULT_DECODE_TIMEOUT,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    progress: bool = True,
) -> PrepareReport:
    """Write InternVid rows joined to their videos as training-ready shards under ``output_dir`` (on Ray Data).

    Args:
        output_dir: the prepared folder (created; a rerun into it resumes, with the same arguments only).
        video_root: folder of whole videos ``{YoutubeID}.mp4`` and/or pre-cut clips (as ``load_internvid``); with
            ``clips``, the folder its relative paths are read against (default: the list's folder).
        data_files, path, name, split, token: the annotation rows, exactly as ``load_internvid`` takes them.
        clips: a caption list instead (``path,start_sec,end_sec,caption``, as ``load_clips`` reads it; checked now,
            a bad row raises ``ValueError`` naming the file and the row).
        filters: ``load_internvid``'s row filters (:class:`AnnotationFilter`); skipped rows keep their reason.
        processor: the processor of the model to train (or its folder): its frame count decides the frames kept
            per clip, and is recorded for ``load_prepared`` (default: ``ViCLIPProcessor()``'s 8).
        train_choices, short_side, jpeg_quality, rows_per_shard: see :class:`PrepareSettings`.
        max_rows: only the first ``max_rows`` rows of the source (a trial run).
        ray_address: a Ray cluster to run on (every node must see ``video_root`` and ``output_dir`` at the same
            paths); ``None`` starts a local instance with ``num_cpus`` cores (default: all).
        decode_timeout / max_pixels: a clip not decoded within ``decode_timeout`` seconds, or whose frames have more
            than ``max_pixels`` pixels, is skipped with its reason (``read_video_clip``'s deadline and budget).
        progress: a progress bar over the rows.

    Returns:
        a :class:`PrepareReport`; ``report.complete`` is False when some shard failed as a whole (rerun).

    Raises:
        DiskFullError: a write failed for lack of space, quota or file size; the finished shards are kept.
    """
    output_dir = Path(output_dir)
    if clips is not None:
        source = CaptionListSource(
            os.path.abspath(clips), None if video_root is None else os.fspath(video_root)
        )
        source.check()
        video_root, data_files = source.root, None
    elif video_root is None:
        raise ValueError("video_root is required with InternVid annotation rows")
    else:
        source = AnnotationSource.from_arguments(path, name, split, data_files, token)
        data_files = source.data_files
    VideoLocator(video_root)  # the folder must exist: fail now with its name
    settings = PrepareSettings(
        video_root=os.path.abspath(video_root),
        filters=filters or AnnotationFilter(),
        num_frames=processor_frames(resolve_processor(processor)),
        train_choices=train_choices,
        short_side=short_side,
        jpeg_quality=jpeg_quality,
        rows_per_shard=rows_per_shard,
    )
    annotations = {
        "data_files": [os.path.abspath(f) for f in data_files] if data_files else None,
        "path": None if data_files else path,
        "name": None if data_files else name,
        "split": split,
        "max_rows": max_rows,
    }
    if clips is not None:  # only then: the config of a folder prepared from annotations stays as it was
        annotations = {"clips": source.path, "max_rows": max_rows}
    config = {"format_version": FORMAT_VERSION, "settings": settings.to_dict(), "annotations": annotations}
    config = json.loads(json.dumps(config))  # as it reads back from the file
    output_dir.mkdir(parents=True, exist_ok=True)
    _check_config(output_dir, config)
    _remove_stale_temp_files(output_dir)

    done = _done_shards(output_dir)
    ran, failed = 0, []
    try:
        with ray_session(ray_address, num_cpus):
            quiet_ray_data()
            window = max(32, 4 * cluster_cpus())
            ran, failed = _run(
                output_dir,
                settings,
                _work_items(source, rows_per_shard, done, max_rows),
                window,
                progress,
                {"timeout": decode_timeout, "max_pixels": max_pixels},
            )
    finally:
        # The shards' attempt counters; after a full disk, also the temp files of the tasks the session's end
        # stopped mid-write.
        _remove_stale_temp_files(output_dir)
    with stop_on_full_disk(output_dir):
        report = _write_manifest(output_dir, config, failed)
    report = PrepareReport(**{**report.__dict__, "shards_this_run": ran})
    (logger.info if report.complete else logger.warning)("viclip prepare: %s", report.summary())
    return report


def _run(
    output_dir: Path,
    settings: PrepareSettings,
    items: Iterator[dict],
    window: int,
    progress: bool,
    decode_limits: dict[str, Any],
) -> tuple[int, list[int]]:
    """Feed the work items to Ray Data ``window`` shards at a time (the driver never holds every row)."""
    import ray.data
    from tqdm.auto import tqdm

    ray = import_ray()
    context = ray.data.DataContext.get_current()
    context.max_errored_blocks = -1  # a shard whose task fails stays pending; the other shards go on
    bar = tqdm(desc="preparing InternVid", unit="row", disable=not progress, dynamic_ncols=True)
    written, skipped, ran, failed = 0, 0, 0, []
    while True:
        batch = [item for _, item in zip(range(window), items)]
        if not batch:
            break
        wanted = {int(item["shard"]) for item in batch}
        dataset = ray.data.from_items(batch, override_num_blocks=len(batch)).map(
            _run_shard_task,
            fn_kwargs={"settings": settings, "output_dir": str(output_dir), "decode_limits": decode_limits},
            num_cpus=1,
        )
        for summary in dataset.iter_rows():
            if summary["disk_full"]:
                bar.close()
                raise DiskFullError(summary["disk_full"])
            if summary["gave_up"]:  # its worker died SHARD_TASK_ATTEMPTS times: pending, as a failed task
                continue
            ran += 1
            wanted.discard(int(summary["shard"]))
            written += summary["rows_written"]
            skipped += summary["rows_read"] - summary["rows_written"]
            bar.update(summary["rows_read"])
            bar.set_postfix(clips=written, skipped=skipped, refresh=False)
        for shard in sorted(wanted):
            logger.warning(
                "shard %s failed as a whole (see the Ray logs); a rerun will redo it", shard_name(shard)
            )
        failed.extend(sorted(wanted))
    bar.close()
    return ran, failed
