"""InternVid through ``datasets``: annotation rows joined to local video files, as model-ready examples.

Pipeline (one direction, each stage usable alone):

1. annotation rows from the Hub (``OpenGVLab/InternVid``) or local JSON Lines / Parquet, always through
   ``datasets.load_dataset``;
2. each row validated (:mod:`.annotations`), filtered and joined to a file under ``video_root``
   (:mod:`.video_locator`); rows that cannot become examples keep a ``skip_reason`` (an unreadable
   line or a caption that is not valid UTF-8 is one skipped row, never the end of its file);
3. the per-example transform (:mod:`.transform`) decodes the clip and tokenizes the caption; rows
   with a reason, and videos that fail to decode, are counted (:class:`SkipStats`), named in the
   log and dropped. Nothing raises out of an epoch for a bad row or file.

Streaming splits the rows into ``num_shards`` *virtual shards* (row ``i`` goes to shard
``i % num_shards``) before any video is touched, so ``DataLoader`` workers and
``split_dataset_by_node`` ranks decode disjoint rows, and ``state_dict()`` resumes exactly: the
shuffle is a seeded permutation of consecutive blocks of rows, replayed from the annotations on
resume, never a buffer of decoded clips that would be lost.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from datasets import Dataset, Features, IterableDataset, Value, load_dataset
from datasets import config as datasets_config

from ..processing import ClipRangeError, VideoDecodeError
from .annotations import (
    AnnotationError,
    AnnotationFilter,
    SkipReason,
    describe_row,
    parse_json_line,
    parse_row,
)
from .caption_list import LISTED_PATH, CaptionListSource, listed_row_fields
from .model_processor import ProcessorSource
from .stats import SkipStats
from .transform import ExampleTransform, ViCLIPExampleTransform
from .video_locator import VideoLocator

logger = logging.getLogger(__name__)

HUB_REPO = "OpenGVLab/InternVid"
HUB_CONFIG = "InternVid-10M"
HUB_SPLIT = "FLT"
_END_OF_SHARD = "__end_of_shard__"
_ARROW_BATCH = 4096

ROW_FEATURES = Features(
    {
        "row_index": Value("int64"),
        "youtube_id": Value("string"),
        "start_timestamp": Value("string"),
        "end_timestamp": Value("string"),
        "start_sec": Value("float64"),
        "end_sec": Value("float64"),
        "caption": Value("string"),
        "video_path": Value("string"),
        "clip_start_sec": Value("float64"),
        "clip_end_sec": Value("float64"),
        "skip_reason": Value("string"),
        "skip_message": Value("string"),
    }
)
# Columns of the rows that examples do not carry.
_INTERNAL_COLUMNS = ["clip_start_sec", "clip_end_sec", "skip_reason", "skip_message"]
_MODEL_COLUMNS = ("pixel_values_videos", "input_ids", "attention_mask")


@contextlib.contextmanager
def _no_hub_download_count() -> Iterator[None]:
    """``load_dataset`` of local files pings the Hub to count a download of its builder ("text", "json"): offline,
    each call waits for a DNS timeout, and a prepare job makes one call per shard. Local files are no download."""
    saved = datasets_config.HF_UPDATE_DOWNLOAD_COUNTS
    datasets_config.HF_UPDATE_DOWNLOAD_COUNTS = False
    try:
        yield
    finally:
        datasets_config.HF_UPDATE_DOWNLOAD_COUNTS = saved


@dataclass(frozen=True)
class AnnotationSource:
    """Where annotation rows come from: a Hub dataset, or local files (``data_files``)."""

    path: str | None = HUB_REPO
    name: str | None = HUB_CONFIG
    split: str | None = None
    data_files: str | tuple[str, ...] | None = None
    token: str | bool | None = None

    def load(self, streaming: bool) -> Dataset | IterableDataset:
        """``datasets.load_dataset`` with the same arguments for the Hub and for local files.

        Local JSON Lines are read as lines of text (``{"text": line}`` rows, parsed per row by
        :func:`annotate_row`): Arrow's JSON reader rejects a whole file for one bad line.
        """
        if self.data_files is not None:
            files = [self.data_files] if isinstance(self.data_files, str) else list(self.data_files)
            builder = annotation_builder(files)
            # A stray byte becomes a literal "\\xff" escape, which makes its line invalid JSON: one skipped row.
            options = {"encoding_errors": "backslashreplace"} if builder == "text" else {}
            with _no_hub_download_count():
                return load_dataset(
                    builder, data_files=files, split=self.split or "train", streaming=streaming, **options
                )
        return load_dataset(
            self.path,
            self.name,
            split=self.split or HUB_SPLIT,
            streaming=streaming,
            token=self.token,
        )

    @classmethod
    def from_arguments(
        cls,
        path: str | None,
        name: str | None,
        split: str | None,
        data_files: str | os.PathLike | Sequence[str | os.PathLike] | None,
        token: str | bool | None,
    ) -> AnnotationSource:
        """``load_internvid``'s source arguments as a source; local files are checked now (they exist, in one
        format: :func:`annotation_builder`) and kept as a tuple of strings."""
        if data_files is not None:
            files = [data_files] if isinstance(data_files, (str, os.PathLike)) else list(data_files)
            data_files = tuple(os.fspath(f) for f in files)
            annotation_builder(data_files)
        return cls(path=path, name=name, split=split, data_files=data_files, token=token)


@dataclass(frozen=True)
class RowPlan:
    """Which joined rows a dataset reads, and in which order: the first step of :func:`load_internvid`.

    ``shuffle`` permutes blocks of ``shuffle_buffer_size`` consecutive rows with ``seed`` in a stream (resumable
    exactly), the whole table in a map-style dataset. A stream splits the rows into ``num_shards`` virtual shards
    (row ``i`` in shard ``i % num_shards``), each of which reads the source once per pass.
    """

    source: AnnotationSource | CaptionListSource
    row_filter: AnnotationFilter
    video_root: str
    shuffle: bool
    shuffle_buffer_size: int = 1000
    seed: int = 0
    num_shards: int = 16

    def __post_init__(self) -> None:
        if self.num_shards < 1:
            raise ValueError(f"num_shards must be >= 1, got {self.num_shards}")
        VideoLocator(self.video_root)  # fail now, with the path, if the folder does not exist


def annotation_builder(files: Sequence[str]) -> str:
    kinds = set()
    for f in files:
        name = str(f).lower()
        if name.endswith(".parquet"):
            kinds.add("parquet")
        elif name.endswith((".jsonl", ".jsonl.gz", ".jsonl.zst")):
            kinds.add("text")  # JSON Lines, one row per line (see AnnotationSource.load)
        elif name.endswith((".json", ".json.gz")):
            kinds.add("json")
        else:
            raise ValueError(f"annotation file {f!r}: expected JSON Lines (.jsonl) or Parquet (.parquet)")
        if not any(c in str(f) for c in "*?[") and "://" not in str(f) and not Path(f).is_file():
            raise FileNotFoundError(f"annotation file {str(f)!r} does not exist")
    if len(kinds) > 1:
        raise ValueError(f"annotation files mix formats {sorted(kinds)}: {list(files)}")
    return kinds.pop()


def _arrow_text(value: Any) -> str | None:
    """``value`` as a string Arrow can store, or ``None`` (undecodable bytes, a lone surrogate)."""
    if value is None or isinstance(value, (bytes, bytearray)):
        return None
    text = str(value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return text


def _empty_row(index: int, raw: dict[str, Any]) -> dict[str, Any]:
    row = dict.fromkeys(ROW_FEATURES)
    row["row_index"] = index
    for key, column in (("youtube_id", "YoutubeID"), ("start_timestamp", "Start_timestamp"),
                        ("end_timestamp", "End_timestamp"), ("caption", "Caption")):  # fmt: skip
        row[key] = _arrow_text(raw.get(column))
    return row


def annotate_row(
    index: int, raw: dict[str, Any], row_filter: AnnotationFilter, videos: VideoLocator
) -> dict[str, Any]:
    """One raw annotation row (or ``{"text": line}`` of a JSON Lines file) -> a row of :data:`ROW_FEATURES`,
    with ``skip_reason`` when unusable. A caption-list row (:mod:`.caption_list`) names its video file itself."""
    if LISTED_PATH in raw:
        return {**dict.fromkeys(ROW_FEATURES), "row_index": index, **listed_row_fields(raw, row_filter)}
    if set(raw) == {"text"}:
        try:
            raw = parse_json_line(raw["text"])
        except AnnotationError as e:
            row = _empty_row(index, {})
            row["skip_reason"], row["skip_message"] = e.reason.value, str(e)
            return row
    row = _empty_row(index, raw)
    try:
        clip = parse_row(raw)
    except AnnotationError as e:
        row["skip_reason"], row["skip_message"] = e.reason.value, str(e)
        return row
    row["start_sec"], row["end_sec"] = clip.start_sec, clip.end_sec
    rejected = row_filter.check(clip)
    if rejected is not None:
        row["skip_reason"], row["skip_message"] = rejected[0].value, rejected[1]
        return row
    location = videos.locate(clip.youtube_id, clip.start_sec, clip.end_sec)
    if location is None:
        row["skip_reason"] = SkipReason.MISSING_VIDEO.value
        row["skip_message"] = f"no video for {clip.youtube_id} under {videos.video_root}"
        return row
    row["video_path"] = location.path  # a VideoClip: no time range for a pre-cut clip file
    row["clip_start_sec"], row["clip_end_sec"] = location.start_sec, location.end_sec
    return row


def iter_source_rows(source: AnnotationSource, shard: int, num_shards: int) -> Iterator[tuple[int, dict]]:
    """``(row_index, raw_row)`` of the rows ``i`` with ``i % num_shards == shard``, streamed in Arrow batches."""
    stream = source.load(streaming=True).with_format("arrow")
    offset = 0
    for table in stream.iter(batch_size=_ARROW_BATCH):
        first = (shard - offset) % num_shards
        local = list(range(first, len(table), num_shards))
        if local:
            yield from zip((offset + i for i in local), _table_rows(table.take(local)))
        offset += len(table)


def _table_rows(table: pa.Table) -> list[dict[str, Any]]:
    """``table.to_pylist()``, except that a string that is not valid UTF-8 (Arrow's JSON and Parquet readers
    do not check) comes out as ``bytes`` for :func:`parse_row` to reject, instead of failing the whole batch."""
    try:
        return table.to_pylist()
    except UnicodeDecodeError:
        columns = {name: _column_values(table.column(name)) for name in table.column_names}
        return [dict(zip(columns, values)) for values in zip(*columns.values())]


def _column_values(column: pa.ChunkedArray) -> list[Any]:
    try:
        return column.to_pylist()
    except UnicodeDecodeError:
        return [_decoded(value) for value in column.cast(pa.large_binary()).to_pylist()]


def _decoded(value: bytes | None) -> str | bytes | None:
    if value is None:
        return None
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value


def _block_shuffled(rows: Iterator[dict], block_size: int, seed: int, shard: int) -> Iterator[dict]:
    """Rows in consecutive blocks of ``block_size``, each block permuted by a seed of (seed, shard, block)."""
    block: list[dict] = []
    block_index = 0

    def flush():
        rng = np.random.default_rng([seed, shard, block_index])
        return [block[i] for i in rng.permutation(len(block))]

    for row in rows:
        block.append(row)
        if len(block) == block_size:
            yield from flush()
            block, block_index = [], block_index + 1
    if block:
        yield from flush()


def generate_rows(shard_ids: list[int], plan: RowPlan) -> Iterator[dict[str, Any]]:
    """The rows of some virtual shards of ``plan`` (a ``datasets`` generator: ``shard_ids`` is what gets sharded).

    Each shard ends with a marker row (``skip_reason == "__end_of_shard__"``) that lets the next stage
    log a summary; it never becomes an example.
    """
    videos = VideoLocator(plan.video_root)
    for shard in shard_ids:
        rows = (
            annotate_row(i, raw, plan.row_filter, videos)
            for i, raw in iter_source_rows(plan.source, shard, plan.num_shards)
        )
        if plan.shuffle and plan.shuffle_buffer_size:
            rows = _block_shuffled(rows, plan.shuffle_buffer_size, plan.seed, shard)
        yield from rows
        marker = dict.fromkeys(ROW_FEATURES)
        marker.update(row_index=-1, skip_reason=_END_OF_SHARD, skip_message=f"{shard}/{plan.num_shards}")
        yield marker


class ExampleBuilder:
    """Turns a joined row into an example, or into an empty one (dropped next) while counting why.

    Used as the ``datasets`` map function; ``build(row)`` returns ``None`` for a skipped row.
    """

    def __init__(self, transform: ExampleTransform, stats: SkipStats, num_shards: int | None = None):
        self.transform = transform
        self.stats = stats
        self.num_shards = num_shards
        self._shard_counts: Counter[str] = Counter()

    def _skip(self, row: dict, reason: SkipReason | str, message: str, level: int = logging.DEBUG) -> None:
        reason = reason.value if isinstance(reason, SkipReason) else reason
        self.stats.add(reason)
        self._shard_counts[reason] += 1
        if logger.isEnabledFor(level):
            where = describe_row(
                {"YoutubeID": row["youtube_id"], "Start_timestamp": row["start_timestamp"],
                 "End_timestamp": row["end_timestamp"]},
                row["row_index"],
            )  # fmt: skip
            logger.log(level, "skipped %s: %s: %s", where, reason, message)

    def _end_of_shard(self, row: dict) -> None:
        done = self._shard_counts.pop("examples", 0)
        skipped = ", ".join(f"{k}={v}" for k, v in sorted(self._shard_counts.items())) or "none"
        logger.info(
            "InternVid shard %s done: %d examples, skipped rows: %s", row["skip_message"], done, skipped
        )
        self._shard_counts.clear()
        self.stats.add("shards_done")
        total = self.stats.counts()["shards_done"]
        if self.num_shards and total % self.num_shards == 0:
            self.stats.log_summary(
                prefix=f"InternVid: all {self.num_shards} shards read (pass {total // self.num_shards})"
            )

    def build(self, row: dict[str, Any]) -> dict[str, Any] | None:
        reason = row["skip_reason"]
        if reason == _END_OF_SHARD:
            self._end_of_shard(row)
            return None
        if reason:
            self._skip(row, reason, row["skip_message"])
            return None
        try:
            out = self.transform(row)
        except ClipRangeError as e:  # the annotation's segment is not inside the video that was found
            self._skip(row, SkipReason.SEGMENT_OUT_OF_RANGE, str(e), level=logging.INFO)
            return None
        except VideoDecodeError as e:
            self._skip(row, SkipReason.CORRUPT_VIDEO, str(e), level=logging.INFO)
            return None
        except Exception as e:  # an epoch never stops for one example; the traceback is logged
            self._skip(row, SkipReason.PROCESSING_ERROR, f"{type(e).__name__}: {e}", level=logging.WARNING)
            logger.debug("traceback of the processing error", exc_info=True)
            return None
        self.stats.add("examples")
        self._shard_counts["examples"] += 1
        return out

    def __call__(self, row: dict[str, Any]) -> dict[str, Any]:
        out = self.build(row)
        return out if out is not None else dict.fromkeys(_MODEL_COLUMNS)

    def batch(self, batch: dict[str, list]) -> dict[str, list]:
        """``Dataset.set_transform`` form: columns in, columns out; failed rows get ``None`` model inputs."""
        rows = [dict(zip(batch, values)) for values in zip(*batch.values())]
        outputs = []
        for row in rows:
            out = {**row, **(self.build(row) or dict.fromkeys(_MODEL_COLUMNS))}
            for column in _INTERNAL_COLUMNS:
                out.pop(column, None)
            outputs.append(out)
        return {key: [o[key] for o in outputs] for key in outputs[0]} if outputs else {}


def _has_video(example: dict[str, Any]) -> bool:
    return example["pixel_values_videos"] is not None


def load_internvid(
    path: str | None = HUB_REPO,
    name: str | None = HUB_CONFIG,
    split: str | None = None,
    *,
    data_files: str | os.PathLike | Sequence[str | os.PathLike] | None = None,
    video_root: str | os.PathLike,
    streaming: bool = True,
    training: bool = True,
    transform: ExampleTransform | None = None,
    processor: ProcessorSource | None = None,
    clean_captions: bool | None = None,
    decode_threads: int | None = None,
    filters: AnnotationFilter | None = None,
    shuffle: bool | None = None,
    shuffle_buffer_size: int = 1000,
    seed: int = 0,
    num_shards: int = 16,
    stats: SkipStats | None = None,
    token: str | bool | None = None,
) -> IterableDataset | Dataset:
    """InternVid annotation rows joined to the videos under ``video_root``, as ViCLIP training examples.

    Examples hold ``pixel_values_videos`` (T, C, H, W) float32, ``input_ids`` and ``attention_mask`` (32,),
    ``caption``, and the row's ids for tracing: ``youtube_id``, ``start_sec``/``end_sec`` (the annotation's times in
    seconds), ``start_timestamp``/``end_timestamp`` (as written), ``row_index`` and ``video_path``.

    Args:
        path, name, split: the Hub dataset (default ``OpenGVLab/InternVid``, ``InternVid-10M``, ``FLT``; ``AES`` is
            the aesthetics split; ``OpenGVLab/InternVid-10M-FLT-INFO`` with ``name=None, split="train"``). Gated:
            accept the terms on the Hub and pass ``token``. Ignored with ``data_files``.
        data_files: local JSON Lines or Parquet files with the InternVid columns (split ``"train"``).
        video_root: folder of ``{YoutubeID}.mp4|webm|mkv`` whole videos and/or pre-cut
            ``{YoutubeID}_{start:.3f}_{end:.3f}.mp4`` clips (see :mod:`viclip.data.video_locator`).
        streaming: an ``IterableDataset`` (default) or a map-style ``Dataset``, which drops rows without a video
            when built and decodes in ``__getitem__`` (a bad video: ``None`` inputs, dropped by
            :func:`internvid_collate`).
        training: random frame sampling + RandomResizedCrop(0.5, 1) + flip; ``False``: middle frames, plain resize.
        transform: replaces the default per-example transform (:class:`ViCLIPExampleTransform`) and all its work:
            ``processor``, ``clean_captions`` and ``decode_threads`` are then errors.
        processor: the default transform's ``ViCLIPProcessor``, or a model folder whose processor to use: it decides
            the frames, their size and normalisation (default: ``ViCLIPProcessor()``, 8 x 224x224).
        clean_captions: the original ``pre_text`` caption cleaning before tokenizing (default: no).
        decode_threads: FFmpeg threads per clip (default 1, which suits DataLoader workers).
        filters: the quality filters on rows (:class:`AnnotationFilter`; default: none).
        shuffle, shuffle_buffer_size, seed, num_shards: row order and virtual shards (:class:`RowPlan`; ``shuffle``
            defaults to ``training``). ``set_epoch`` also reorders a stream's shards; use ``seed + epoch`` for new
            block orders each epoch; make ``num_shards`` a multiple of ``world_size * num_workers``.
        stats: a :class:`SkipStats` to count into (shared with DataLoader workers), read after a pass.
        token: Hub token for the gated datasets.
    """
    plan = RowPlan(
        source=AnnotationSource.from_arguments(path, name, split, data_files, token),
        row_filter=filters if filters is not None else AnnotationFilter(),
        video_root=str(video_root),
        shuffle=training if shuffle is None else shuffle,
        shuffle_buffer_size=shuffle_buffer_size,
        seed=seed,
        num_shards=num_shards,
    )
    transform = _example_transform(transform, processor, training, clean_captions, decode_threads)
    return _examples(plan, transform, stats, streaming)


def load_clips(
    clips: str | os.PathLike,
    *,
    video_root: str | os.PathLike | None = None,
    streaming: bool = True,
    training: bool = True,
    transform: ExampleTransform | None = None,
    processor: ProcessorSource | None = None,
    clean_captions: bool | None = None,
    decode_threads: int | None = None,
    filters: AnnotationFilter | None = None,
    shuffle: bool | None = None,
    shuffle_buffer_size: int = 1000,
    seed: int = 0,
    num_shards: int = 16,
    stats: SkipStats | None = None,
) -> IterableDataset | Dataset:
    """A caption list (``path,start_sec,end_sec,caption`` CSV/TSV/JSON Lines, the format of `viclip evaluate
    retrieval`) as ViCLIP training examples: :func:`load_internvid`'s pipeline with the list as its rows.

    Relative paths are read against ``video_root`` (default: the list's folder); each caption is one row (a clip on
    several rows trains with each caption). The list is read and checked now: a bad row raises ``ValueError``
    naming the file and the row; a missing or broken video is a skipped, counted row. Every other argument is
    :func:`load_internvid`'s; ``youtube_id`` of an example is its video's file name stem.
    """
    source = CaptionListSource(os.fspath(clips), None if video_root is None else os.fspath(video_root))
    source.check()
    plan = RowPlan(
        source=source,
        row_filter=filters if filters is not None else AnnotationFilter(),
        video_root=source.root,
        shuffle=training if shuffle is None else shuffle,
        shuffle_buffer_size=shuffle_buffer_size,
        seed=seed,
        num_shards=num_shards,
    )
    transform = _example_transform(transform, processor, training, clean_captions, decode_threads)
    return _examples(plan, transform, stats, streaming)


def _examples(
    plan: RowPlan, transform: ExampleTransform, stats: SkipStats | None, streaming: bool
) -> IterableDataset | Dataset:
    stats = stats if stats is not None else SkipStats()
    if not streaming:
        return _map_style_examples(plan, ExampleBuilder(transform, stats))
    return _streamed_examples(plan, ExampleBuilder(transform, stats, num_shards=plan.num_shards))


def _example_transform(
    transform: ExampleTransform | None,
    processor: ProcessorSource | None,
    training: bool,
    clean_captions: bool | None,
    decode_threads: int | None,
) -> ExampleTransform:
    """The transform given, or the default one; the default's settings next to a transform are an error."""
    if transform is None:
        return ViCLIPExampleTransform(
            processor,
            training=training,
            clean_captions=bool(clean_captions),
            decode_threads=1 if decode_threads is None else decode_threads,
        )
    given = {"processor": processor, "clean_captions": clean_captions, "decode_threads": decode_threads}
    clashing = [name for name, value in given.items() if value is not None]
    if clashing:
        raise ValueError(
            f"give either transform or {', '.join(clashing)} (settings of the default transform), not both"
        )
    return transform


def _streamed_examples(plan: RowPlan, builder: ExampleBuilder) -> IterableDataset:
    """The plan's rows as a stream of virtual shards, mapped to examples; rows without one are dropped."""
    rows = IterableDataset.from_generator(
        generate_rows,
        features=ROW_FEATURES,
        gen_kwargs={"shard_ids": list(range(plan.num_shards)), "plan": plan},
    )
    examples = rows.map(builder, remove_columns=_INTERNAL_COLUMNS, features=None)
    return examples.filter(_has_video)


def _map_style_examples(plan: RowPlan, builder: ExampleBuilder) -> Dataset:
    """The plan's rows joined once into a table; skipped rows are counted now, the rest decode on access."""
    raw = plan.source.load(streaming=False)
    videos = VideoLocator(plan.video_root)

    def annotate(batch: pa.Table, indices: list[int]) -> dict[str, list]:
        rows = [
            annotate_row(i, values, plan.row_filter, videos) for i, values in zip(indices, _table_rows(batch))
        ]
        return {key: [r[key] for r in rows] for key in ROW_FEATURES}

    rows = (
        raw.with_format("arrow")
        .map(
            annotate,
            batched=True,
            with_indices=True,
            remove_columns=raw.column_names,
            features=ROW_FEATURES,
            keep_in_memory=True,  # video availability changes: never reuse a cached join
            desc="joining InternVid rows to videos",
        )
        .with_format(None)
    )
    skipped = [i for i, reason in enumerate(rows["skip_reason"]) if reason]
    for i in skipped:
        builder.build(rows[i])  # counts and logs the reason
    kept = rows.select(sorted(set(range(len(rows))) - set(skipped)), keep_in_memory=True)
    if plan.shuffle:
        kept = kept.shuffle(seed=plan.seed, keep_in_memory=True)
    builder.stats.log_summary(logging.INFO, prefix="InternVid rows without an example")
    kept.set_transform(builder.batch)
    return kept


def internvid_collate(examples: list[dict[str, Any]]) -> dict[str, Any] | None:
    """``DataLoader`` collate: drops examples whose video failed (map-style datasets), then stacks.

    Returns ``None`` when every example of the batch failed; skip such batches.
    """
    from torch.utils.data import default_collate

    good = [e for e in examples if e.get("pixel_values_videos") is not None]
    return default_collate(good) if good else None
