"""Labelled videos for classification through ``datasets``: lists, class folders, transforms, collation.

Two sources are accepted:

- a video list, CSV/TSV with a header or JSON Lines, with columns ``path`` (relative to the list's
  folder), optional ``start``/``end`` (seconds) and ``label``;
- a class-per-folder tree ``root/<label>/<video>.mp4`` (the folder name is the label).

:func:`load_video_classification_dataset` returns a ``datasets.Dataset`` with columns ``path``,
``start``, ``end`` and ``label`` (a ``ClassLabel``). As in the InternVid loader, rows whose video is
missing are dropped when the dataset is built, and (with ``verify=True``) so are videos that fail to
decode; both are counted in a :class:`~viclip.data.stats.SkipStats`. Videos that fail later, while
training, give ``None`` inputs that :class:`VideoClassificationCollator` drops, again counted.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import torch
from torchvision.transforms import RandomResizedCrop

from ..data.annotations import SkipReason
from ..data.stats import SkipStats
from ..data.video_list import read_labelled_videos
from ..processing import VIDEO_EXTENSIONS, ViCLIPVideoProcessor, VideoClip, VideoDecodeError, read_video_clip
from .multiview import multiview_pixel_values

logger = logging.getLogger(__name__)

MODEL_COLUMNS: tuple[str, ...] = ("pixel_values_videos", "labels")


@dataclass
class LabelledVideoDataset:
    """A labelled video set: the ``datasets.Dataset`` of rows kept, its class names and the skip counts."""

    dataset: datasets.Dataset
    labels: list[str]
    stats: SkipStats

    @property
    def id2label(self) -> dict[int, str]:
        return dict(enumerate(self.labels))

    @property
    def label2id(self) -> dict[str, int]:
        return {label: i for i, label in enumerate(self.labels)}


def _rows_from_folder(root: Path, extensions: Sequence[str]) -> list[dict[str, Any]]:
    exts = {e.lower() for e in extensions}
    class_dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not class_dirs:
        raise ValueError(f"{str(root)!r} has no class sub-folders; expected root/<label>/<video>.mp4")
    rows = []
    for class_dir in class_dirs:
        for path in sorted(class_dir.rglob("*")):
            if path.suffix.lower() in exts and not path.name.startswith("."):
                rows.append({"path": str(path), "start_sec": None, "end_sec": None, "label": class_dir.name})
    if not rows:
        raise ValueError(
            f"no video files ({', '.join(sorted(exts))}) under the class folders of {str(root)!r}"
        )
    return rows


def _rows_from_list(path: Path) -> list[dict[str, Any]]:
    return [
        {"path": v.item.path, "start_sec": v.item.start_sec, "end_sec": v.item.end_sec, "label": v.label}
        for v in read_labelled_videos(path, check_exists=False)
    ]


def _probe(row: dict[str, Any]) -> dict[str, Any]:
    """Demux the clip and decode one frame: catches missing, empty, truncated and non-video files."""
    try:
        read_video_clip(row["path"], row["start_sec"], row["end_sec"], num_frames=1, num_threads=1)
    except VideoDecodeError as error:
        return {"decode_error": str(error)}
    return {"decode_error": ""}


def load_video_classification_dataset(
    source: str | os.PathLike,
    labels: Sequence[str] | None = None,
    *,
    verify: bool = True,
    num_proc: int | None = None,
    stats: SkipStats | None = None,
    extensions: Sequence[str] = VIDEO_EXTENSIONS,
) -> LabelledVideoDataset:
    """Read a labelled video list (CSV/TSV/JSONL) or a class-per-folder tree into a ``datasets.Dataset``.

    Args:
        source: the list file, or the root folder of ``<label>/<video>`` sub-folders.
        labels: the class names in index order (e.g. the training set's, for an evaluation set). Default:
            the sorted distinct labels of ``source``. A row whose label is not among them is an error.
        verify: decode one frame of every clip now and drop the unreadable ones (counted as
            ``corrupt_video``), so that evaluation never meets a bad file. Uses ``num_proc`` processes.
        stats: the :class:`SkipStats` to count into (default: a new one).
        extensions: video file extensions of the class-per-folder layout.

    Raises:
        FileNotFoundError / ValueError: naming the source, or the file and line of a bad row.
    """
    source = Path(source)
    stats = stats if stats is not None else SkipStats()
    if source.is_dir():
        rows = _rows_from_folder(source, extensions)
    elif source.is_file():
        rows = _rows_from_list(source)
    else:
        raise FileNotFoundError(f"labelled videos {str(source)!r}: no such list file or folder")

    names = sorted({row["label"] for row in rows}) if labels is None else [str(x) for x in labels]
    if len(set(names)) != len(names):
        raise ValueError(f"labels must be distinct, got {names}")
    known = set(names)
    for row in rows:
        if row["label"] not in known:
            raise ValueError(
                f"{str(source)!r}: video {row['path']!r} has label {row['label']!r}, which is not one of the "
                f"{len(names)} classes {names[:10]}{' ...' if len(names) > 10 else ''}"
            )

    kept = []
    for row in rows:
        if os.path.isfile(row["path"]):
            kept.append(row)
        else:
            stats.add(SkipReason.MISSING_VIDEO)
            logger.info("skipped %s: missing_video", row["path"])
    features = datasets.Features(
        {
            "path": datasets.Value("string"),
            "start_sec": datasets.Value("float64"),
            "end_sec": datasets.Value("float64"),
            "label": datasets.ClassLabel(names=names),
        }
    )
    columns = {key: [row[key] for row in kept] for key in features}
    columns["label"] = [names.index(label) for label in columns["label"]]
    dataset = datasets.Dataset.from_dict(columns, features=features)

    if verify and len(dataset):
        probed = dataset.map(
            _probe, num_proc=num_proc, keep_in_memory=True, desc=f"checking the videos of {source.name}"
        )
        errors = probed["decode_error"]
        for error in filter(None, errors):
            stats.add(SkipReason.CORRUPT_VIDEO)
            logger.info("skipped: corrupt_video: %s", error)
        dataset = dataset.select([i for i, error in enumerate(errors) if not error], keep_in_memory=True)
    if len(dataset) == 0:
        raise ValueError(f"{str(source)!r}: no readable videos ({stats.summary()})")
    stats.add("examples", len(dataset))
    if stats.num_skipped:
        logger.warning("%s: %s", source, stats.summary())
    return LabelledVideoDataset(dataset, names, stats)


class VideoClassificationTransform:
    """Decodes and preprocesses clips: ``Dataset.set_transform`` form, columns in, model columns out.

    Training: ``sampling="random"`` frames and the processor's RandomResizedCrop + horizontal flip; with
    ``flip=False`` the same crop without the flip, for labels that a mirror changes (left/right motion,
    Something-Something). Evaluation:
    ``"middle"`` frames and a plain resize, or, with ``num_clips * num_crops > 1``, the multi-view
    input ``(views, frames, C, H, W)`` of :func:`~viclip.classification.multiview.multiview_pixel_values`.

    A clip that fails to decode gives ``None`` model inputs (counted as ``corrupt_video`` in ``stats``);
    :class:`VideoClassificationCollator` drops it.
    """

    def __init__(
        self,
        video_processor: ViCLIPVideoProcessor,
        *,
        training: bool,
        num_clips: int = 1,
        num_crops: int = 1,
        stats: SkipStats | None = None,
        decode_threads: int = 1,
        flip: bool = True,
    ):
        if num_clips < 1 or num_crops < 1:
            raise ValueError(f"num_clips and num_crops must be >= 1, got {num_clips} and {num_crops}")
        if training and num_clips * num_crops > 1:
            raise ValueError("multi-view (num_clips/num_crops > 1) is an evaluation transform")
        self.video_processor = video_processor
        self.training = training
        self.num_clips = num_clips
        self.num_crops = num_crops
        self.stats = stats if stats is not None else SkipStats()
        self.decode_threads = decode_threads
        self.flip = flip

    def _train_crop_without_flip(self, path: str, start: float | None, end: float | None) -> torch.Tensor:
        frames, _ = read_video_clip(
            path, start, end, self.video_processor.num_frames, "random", num_threads=self.decode_threads
        )
        video = torch.from_numpy(frames).permute(0, 3, 1, 2)
        scale = tuple(self.video_processor.crop_scale)
        top, left, height, width = RandomResizedCrop.get_params(video, scale=scale, ratio=(3 / 4, 4 / 3))
        video = video[..., top : top + height, left : left + width]
        return self.video_processor(video, do_sample_frames=False, return_tensors="pt")[
            "pixel_values_videos"
        ][0]

    def pixel_values(self, path: str, start: float | None, end: float | None) -> torch.Tensor:
        """``(T, C, H, W)``, or ``(views, T, C, H, W)`` for multi-view evaluation."""
        if self.num_clips * self.num_crops > 1:
            return multiview_pixel_values(
                self.video_processor, path, start, end, self.num_clips, self.num_crops, self.decode_threads
            )
        if self.training and not self.flip:
            return self._train_crop_without_flip(path, start, end)
        clip = VideoClip(path, start, end)
        return self.video_processor(
            clip,
            sampling="random" if self.training else "middle",
            do_train_augmentation=self.training,
            num_threads=self.decode_threads,
            return_tensors="pt",
        )["pixel_values_videos"][0]

    def example(self, row: dict[str, Any]) -> dict[str, Any]:
        try:
            pixel_values = self.pixel_values(row["path"], row["start_sec"], row["end_sec"])
        except VideoDecodeError as error:
            self.stats.add(SkipReason.CORRUPT_VIDEO)
            logger.warning("skipped %s: corrupt_video: %s", row["path"], error)
            return dict.fromkeys(MODEL_COLUMNS)
        return {"pixel_values_videos": pixel_values, "labels": row["label"]}

    def __call__(self, batch: dict[str, list]) -> dict[str, list]:
        rows = [dict(zip(batch, values)) for values in zip(*batch.values())]
        outputs = [self.example(row) for row in rows]
        return {key: [o[key] for o in outputs] for key in MODEL_COLUMNS}


class VideoClassificationCollator:
    """Stacks examples into ``pixel_values_videos`` and ``labels``, dropping those whose video failed."""

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        good = [e for e in examples if e.get("pixel_values_videos") is not None]
        if not good:
            raise RuntimeError(
                f"every video of a batch of {len(examples)} failed to decode; build the dataset with verify=True "
                "to drop unreadable videos up front"
            )
        labels = [e["labels"] for e in good]
        return {
            "pixel_values_videos": torch.stack([e["pixel_values_videos"] for e in good]),
            "labels": torch.as_tensor(np.asarray(labels)),
        }


def prepare_for_training(
    data: LabelledVideoDataset,
    video_processor: ViCLIPVideoProcessor,
    *,
    training: bool,
    num_clips: int = 1,
    num_crops: int = 1,
    decode_threads: int = 1,
    flip: bool = True,
) -> datasets.Dataset:
    """``data.dataset`` with the train or evaluation transform set (decoding happens on access)."""
    transform = VideoClassificationTransform(
        video_processor,
        training=training,
        num_clips=num_clips,
        num_crops=num_crops,
        stats=data.stats,
        decode_threads=decode_threads,
        flip=flip,
    )
    return data.dataset.with_transform(transform)
