"""Read prepared InternVid shards (``viclip prepare``) as the same examples as ``load_internvid``, fast.

The shards are Parquet files read through ``datasets.load_dataset``: a local folder and a Hub dataset repo take
the same path (the file list, then ``load_dataset(path_or_repo, data_files=...)``). Examples are built by
:class:`PreparedExampleTransform`, which picks the frames with the processor's own ``sample_frame_indices`` (on the
stored frame layout, see :mod:`.prepared_format`) and runs the same video processor and tokenizer as
``load_internvid``: the training augmentation and the evaluation transform are the same code.

Streaming splits by shard file: ``load_prepared(..., rank=, world_size=)`` gives each rank every
``world_size``-th file of the (seeded, shared) file order, whatever the number of files, and ``DataLoader``
workers split a rank's files among themselves: no clip is read twice in an epoch, and no rank decodes a clip it
drops (``split_dataset_by_node`` on the result would do that when the file count is not a multiple of the world
size; do not use it here). Shuffling is resumable exactly: the file
order is a seeded permutation, and consecutive blocks of ``shuffle_buffer_size`` rows are permuted with a seed
drawn from their content, so ``state_dict()`` / ``load_state_dict()`` replays the same order.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from datasets import Dataset, IterableDataset, load_dataset

from ..processing import ViCLIPProcessor, ViCLIPVideoProcessor, sample_frame_indices
from .internvid import ExampleBuilder
from .model_processor import ProcessorSource, processor_frames, resolve_processor
from .prepared_format import (
    CONFIG_FILE,
    FRAME_COLUMNS,
    MANIFEST_FILE,
    SHARDS_DIR,
    decode_jpeg_frame,
    list_shard_files,
)
from .stats import SkipStats
from .transform import ViCLIPExampleTransform

logger = logging.getLogger(__name__)

_MODEL_COLUMNS = ("pixel_values_videos", "input_ids", "attention_mask")


class PreparedExampleTransform(ViCLIPExampleTransform):
    """A prepared row -> model inputs: frames picked like ``load_internvid`` picks them, then the same processor.

    Training: one random stored frame per segment, RandomResizedCrop(0.5, 1) + flip (seeded per example as
    :class:`ViCLIPExampleTransform`); evaluation: the middle frames, plain resize. Only the picked frames are
    decoded.

    The pixels are the video processor's own transform (its ``_transform``: crop, resize, flip, normalise) on the
    decoded uint8 frames, with its settings resolved once here instead of per call: the per-call argument
    handling of ``video_processor(...)`` costs about as much as the resize. The frames are stacked channels-last,
    as the JPEG decoder lays them out, which the uint8 resize is fastest on. The result equals
    ``video_processor(frames, do_sample_frames=False, ...)`` exactly (tested).
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        video_processor = self.processor.video_processor
        settings = {
            name: getattr(video_processor, name, None)
            for name in video_processor.valid_kwargs.__annotations__
        }
        settings.update(do_sample_frames=False, do_train_augmentation=self.training)
        self._video_settings = video_processor._standardize_kwargs(**settings)

    def pixel_values(self, frames: torch.Tensor, seed: int | None) -> torch.Tensor:
        """(T, C, H, W) uint8 frames -> (T, C, size, size) float32, as the video processor makes them."""
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        pixels = self.processor.video_processor._transform(frames, generator, self._video_settings)
        return pixels.contiguous()

    def __call__(self, row: dict[str, Any]) -> dict[str, Any]:
        order = row["frame_order"]
        seed = self._example_seed(row["row_index"]) if self.training else None
        slots = sample_frame_indices(
            len(order),
            self.processor.video_processor.num_frames,
            "random" if self.training else "middle",
            seed,
        )
        decoded = {i: decode_jpeg_frame(row["frames"][i]) for i in {order[s] for s in slots}}
        # (T, H, W, C) stacked, viewed as (T, C, H, W): channels-last, no copy into planes
        frames = torch.stack([decoded[order[s]].permute(1, 2, 0) for s in slots]).permute(0, 3, 1, 2)
        return {"pixel_values_videos": self.pixel_values(frames, seed), **self.text_fields(row["caption"])}


def _permute_block(batch: dict[str, list], seed: int) -> dict[str, list]:
    """A seeded permutation of a block of rows; the seed mixes in the block's rows, so a replay permutes alike."""
    rows = batch["row_index"]
    permutation = np.random.default_rng([seed, len(rows), *rows[:1]]).permutation(len(rows))
    return {key: [values[i] for i in permutation] for key, values in batch.items()}


class _PreparedBuilder:
    """``datasets`` map function: a prepared row -> an example, counted (and ``None`` inputs when it failed)."""

    def __init__(self, builder: ExampleBuilder):
        self.builder = builder

    def __call__(self, row: dict[str, Any]) -> dict[str, Any]:
        out = self.builder.build({**row, "skip_reason": None})
        return out if out is not None else dict.fromkeys(_MODEL_COLUMNS)

    def batch(self, batch: dict[str, list]) -> dict[str, list]:
        """``Dataset.set_transform`` form (map-style datasets)."""
        outputs = []
        for values in zip(*batch.values()):
            row = dict(zip(batch, values))
            out = {**row, **self(row)}
            for column in FRAME_COLUMNS:
                out.pop(column, None)
            outputs.append(out)
        return {key: [o[key] for o in outputs] for key in outputs[0]} if outputs else {}


def _has_video(example: dict[str, Any]) -> bool:
    return example["pixel_values_videos"] is not None


def prepared_shard_files(
    path_or_repo: str | os.PathLike, *, token: str | bool | None = None, revision: str | None = None
) -> list[str]:
    """The shard files of a local prepared folder or a Hub dataset repo, relative to it, in shard order."""
    if Path(path_or_repo).is_dir():
        files = list_shard_files(path_or_repo)
        where = f"folder {os.fspath(path_or_repo)!r}"
    else:
        from huggingface_hub import HfApi

        repo_files = HfApi().list_repo_files(
            str(path_or_repo), repo_type="dataset", revision=revision, token=token
        )
        files = sorted(f for f in repo_files if f.startswith(f"{SHARDS_DIR}/") and f.endswith(".parquet"))
        where = f"Hub dataset {path_or_repo!r}"
    if not files:
        raise FileNotFoundError(
            f"{where} holds no prepared shards ({SHARDS_DIR}/shard-*.parquet): run viclip prepare"
        )
    return files


def load_prepared(
    path_or_repo: str | os.PathLike,
    training: bool = True,
    streaming: bool = True,
    *,
    processor: ProcessorSource | None = None,
    clean_captions: bool = False,
    shuffle: bool | None = None,
    shuffle_buffer_size: int = 256,
    seed: int = 0,
    stats: SkipStats | None = None,
    token: str | bool | None = None,
    revision: str | None = None,
    rank: int = 0,
    world_size: int = 1,
    augmentation_seed: int | None = None,
) -> IterableDataset | Dataset:
    """Prepared shards (a local folder or a Hub dataset repo) as ViCLIP examples, like :func:`load_internvid`.

    Examples hold ``pixel_values_videos`` (T, C, H, W) float32, ``input_ids`` and ``attention_mask``, ``caption``,
    ``youtube_id``, ``start_sec``/``end_sec``, ``start_timestamp``/``end_timestamp``, ``row_index`` (the row of the
    annotation source), the scores and ``source_video``.

    Args:
        path_or_repo: a folder written by ``viclip prepare`` / :func:`prepare_internvid`, or a Hub dataset repo id
            it was pushed to (:func:`push_prepared`).
        training: random frame per segment + RandomResizedCrop(0.5, 1) + flip; ``False``: middle frames, resize.
        streaming: an ``IterableDataset`` (default) or a map-style ``Dataset`` (``load_dataset`` then copies the
            shards into its cache; unreadable clips give ``None`` inputs that ``internvid_collate`` drops).
        processor: the ``ViCLIPProcessor``, or a model folder whose processor to use; it must give the frame count
            the shards were prepared with (their manifest's, else a ValueError naming both). Default: the
            default processor (224x224) at the manifest's frame count.
        clean_captions: apply the original ``pre_text`` caption cleaning before tokenizing.
        shuffle: shuffle (default: ``training``): a seeded shard order and seeded blocks of
            ``shuffle_buffer_size`` rows, resumable exactly; use ``seed + epoch`` for a new order each epoch.
        stats: a :class:`SkipStats` counting examples and clips that failed to decode (shared with workers).
        token, revision: for a Hub repo.
        rank, world_size: this process's share of a distributed run: the shard files ``rank::world_size`` of
            the seeded file order (the same on every rank), so ranks read disjoint files; needs at least
            ``world_size`` files (prepare with a smaller ``rows_per_shard`` otherwise).
        augmentation_seed: base of the per-example augmentation seeds (mixed with ``row_index``, so a resumed
            run augments alike); ``None``: ``torch.initial_seed()``, which DataLoader sets per worker and epoch.
    """
    if shuffle_buffer_size < 1:
        raise ValueError(f"shuffle_buffer_size must be >= 1, got {shuffle_buffer_size}")
    if not 0 <= rank < world_size:
        raise ValueError(f"rank must be in [0, world_size={world_size}), got {rank}")
    files = prepared_shard_files(path_or_repo, token=token, revision=revision)
    processor = _processor_for_shards(path_or_repo, processor, token=token, revision=revision)
    if len(files) < world_size:
        raise ValueError(
            f"{os.fspath(path_or_repo)!r} has {len(files)} shard files for {world_size} ranks: every rank needs "
            "one at least (prepare it again with a smaller rows_per_shard)"
        )
    shuffle = training if shuffle is None else shuffle
    if shuffle:
        files = [files[i] for i in np.random.default_rng(seed).permutation(len(files))]
    files = files[rank::world_size]
    raw = load_dataset(
        os.fspath(path_or_repo),
        data_files=files,
        split="train",
        streaming=streaming,
        token=token,
        revision=revision,
    )
    transform = PreparedExampleTransform(
        processor,
        training=training,
        clean_captions=clean_captions,
        seed=augmentation_seed,
    )
    builder = _PreparedBuilder(ExampleBuilder(transform, stats if stats is not None else SkipStats()))
    if not streaming:
        if shuffle:
            raw = raw.shuffle(seed=seed)
        raw.set_transform(builder.batch)
        return raw
    if shuffle and shuffle_buffer_size > 1:
        raw = raw.map(_permute_block, batched=True, batch_size=shuffle_buffer_size, fn_kwargs={"seed": seed})
    examples = raw.map(builder, remove_columns=list(FRAME_COLUMNS))
    return examples.filter(_has_video)


def read_manifest(
    path_or_repo: str | os.PathLike, *, token: str | bool | None = None, revision: str | None = None
) -> dict[str, Any]:
    """The ``manifest.json`` of a prepared folder (or of the Hub dataset repo it was pushed to): rows written,
    rows skipped by reason, and the settings it was prepared with."""
    import json

    file = Path(path_or_repo, MANIFEST_FILE)
    if not Path(path_or_repo).is_dir():
        from huggingface_hub import hf_hub_download

        file = Path(
            hf_hub_download(
                str(path_or_repo), MANIFEST_FILE, repo_type="dataset", revision=revision, token=token
            )
        )
    if not file.is_file():
        raise FileNotFoundError(
            f"{os.fspath(path_or_repo)!r} has no {MANIFEST_FILE}: not a prepared folder, or unfinished"
        )
    return json.loads(file.read_text())


def prepared_settings(
    path_or_repo: str | os.PathLike, *, token: str | bool | None = None, revision: str | None = None
) -> dict[str, Any]:
    """The `PrepareSettings` (as a dict) that the shards were prepared with: the manifest's, or for a local
    folder whose run has not finished, those its first run wrote in ``prepare_config.json``."""
    import json

    config = Path(path_or_repo, CONFIG_FILE)
    if Path(path_or_repo).is_dir() and not Path(path_or_repo, MANIFEST_FILE).is_file() and config.is_file():
        return json.loads(config.read_text())["settings"]
    return read_manifest(path_or_repo, token=token, revision=revision)["settings"]


def _processor_for_shards(
    path_or_repo: str | os.PathLike,
    processor: ProcessorSource | None,
    *,
    token: str | bool | None,
    revision: str | None,
) -> ViCLIPProcessor:
    """``processor`` (resolved), checked against the frame count the shards were prepared with; by default the
    default processor at that count."""
    frames = int(prepared_settings(path_or_repo, token=token, revision=revision)["num_frames"])
    if processor is None:
        return ViCLIPProcessor(video_processor=ViCLIPVideoProcessor(num_frames=frames))
    processor = resolve_processor(processor)
    if processor_frames(processor) != frames:
        raise ValueError(
            f"{os.fspath(path_or_repo)!r} was prepared for {frames} frames per clip but the processor gives "
            f"{processor_frames(processor)}: prepare the shards with the model's processor "
            "(viclip prepare --model MODEL_DIR)"
        )
    return processor


def push_prepared(
    folder: str | os.PathLike,
    repo_id: str,
    *,
    token: str | None = None,
    private: bool | None = None,
    allow_incomplete: bool = False,
) -> str:
    """Upload a prepared folder to a Hub dataset repo; returns the repo URL.

    The card's YAML points ``datasets`` at the shards, so ``load_prepared(repo_id)`` streams them.
    """
    from huggingface_hub import HfApi

    manifest = read_manifest(folder)
    if not manifest["complete"] and not allow_incomplete:
        raise ValueError(
            f"{os.fspath(folder)!r} is incomplete (shards {manifest['shards_pending']} pending): rerun "
            "viclip prepare to finish it, or pass allow_incomplete=True"
        )
    api = HfApi(token=token)
    url = api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    api.upload_folder(
        repo_id=repo_id,
        folder_path=os.fspath(folder),
        repo_type="dataset",
        allow_patterns=[
            "README.md",
            "manifest.json",
            "skipped.jsonl",
            "prepare_config.json",
            f"{SHARDS_DIR}/*.parquet",
        ],
    )
    return str(url)
