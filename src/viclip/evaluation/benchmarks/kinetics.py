"""Kinetics-400/600/700 zero-shot action recognition as in the ViCLIP paper (Table 1: top-1, top-5, AVG).

The protocol of the original evaluation (``InternVideo1/Pretrain/ViCLIP``: ``dataset/caption_dataset.py``
``build_data_act_rec``, ``tasks/retrieval_utils.py`` ``evaluation_video_clip`` and ``itm_eval``):
each class name is written in the 16 ActionCLIP templates, every prompt cleaned with ``pre_text``; a video
scores a class by the mean over templates of the cosine similarity; one clip per video, 8 "middle" frames.
Top-1 / top-5 are the video-to-class ranks; AVG is their mean.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import torch

from ...data.text_files import read_utf8
from ...processing import VideoClip, clean_caption
from ..templates import resolve_templates
from ..zero_shot import ZeroShotClassifier, topk_accuracy
from .csv_records import read_csv_records
from .embedders import describe_protocol, model_identity
from .embedding import embed_gallery
from .video_files import VideoFileIndex, normalise_name

KINETICS_VARIANTS: tuple[int, ...] = (400, 600, 700)
REQUIRED_COLUMNS: tuple[str, ...] = ("label", "youtube_id", "time_start", "time_end")


@dataclass(frozen=True)
class KineticsRow:
    """One row of an official Kinetics CSV (``label,youtube_id,time_start,time_end,split``)."""

    label: str
    youtube_id: str
    time_start: int
    time_end: int
    line: int  # line number in the CSV, for messages

    @property
    def clip_stem(self) -> str:
        """The file stem of the trimmed clip in the official downloaders' layout."""
        return f"{self.youtube_id}_{self.time_start:06d}_{self.time_end:06d}"


def read_kinetics_csv(path: str | os.PathLike) -> list[KineticsRow]:
    """The rows of an official Kinetics CSV; extra columns (``split``, ``is_cc``) are ignored."""
    path = Path(path)
    records = read_csv_records(
        path,
        REQUIRED_COLUMNS,
        "a Kinetics annotation CSV",
        "label,youtube_id,time_start,time_end,split",
        non_empty=("label", "youtube_id"),
    )
    rows = []
    for line, record in records:
        start = _whole_seconds(record.get("time_start"), path, line, "time_start")
        end = _whole_seconds(record.get("time_end"), path, line, "time_end")
        if end <= start:
            raise ValueError(f"{path} line {line}: time_end {end} is not after time_start {start}")
        rows.append(KineticsRow(record["label"], record["youtube_id"], start, end, line))
    return rows


def _whole_seconds(value: str | None, path: Path, line: int, column: str) -> int:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{path} line {line}: {column}={value!r} is not a number of seconds") from None
    if not math.isfinite(number) or number < 0 or not number.is_integer():  # float() reads "nan" and "inf"
        raise ValueError(
            f"{path} line {line}: {column}={value!r} is not a whole non-negative number of seconds"
        )
    return int(number)


def kinetics_class_names(classes: int | str | os.PathLike) -> list[str]:
    """The official class names of Kinetics-``400``/``600``/``700`` (packaged), or a file with one per line."""
    if str(classes) in {str(v) for v in KINETICS_VARIANTS}:
        text = resources.files(__package__).joinpath(f"class_lists/kinetics{classes}.txt").read_text("utf-8")
        source = f"Kinetics-{classes}"
    else:
        path = Path(classes)
        if not path.is_file():
            raise FileNotFoundError(f"class list {str(path)!r} does not exist (or give 400, 600 or 700)")
        text, source = read_utf8(path), str(path)
    names = [line.strip() for line in text.splitlines() if line.strip()]
    seen: dict[str, str] = {}
    for name in names:
        key = normalise_name(name)
        if key in seen:
            raise ValueError(f"class list {source}: {name!r} and {seen[key]!r} are the same class name")
        seen[key] = name
    if not names:
        raise ValueError(f"class list {source} is empty")
    return names


def guess_kinetics_variant(labels: Sequence[str]) -> int | None:
    """The smallest official list that holds every label (400, 600 or 700), or None."""
    wanted = {normalise_name(label) for label in labels}
    for variant in KINETICS_VARIANTS:
        if wanted <= {normalise_name(name) for name in kinetics_class_names(variant)}:
            return variant
    return None


def find_kinetics_clip(row: KineticsRow, index: VideoFileIndex) -> VideoClip | None:
    """The clip of ``row`` under the index's root, in any of the usual layouts:

    - the trimmed clip ``{youtube_id}_{start:06d}_{end:06d}.<ext>`` (flat or in a folder per class);
    - the whole video ``{youtube_id}.<ext>``, read from ``time_start`` to ``time_end``.
    """
    trimmed = index.find(row.clip_stem, folder_hint=row.label)
    if trimmed is not None:
        return VideoClip(trimmed)
    whole = index.find(row.youtube_id, folder_hint=row.label)
    if whole is not None:
        return VideoClip(whole, row.time_start, row.time_end)
    return None


def evaluate_kinetics(
    embedder,
    rows: Sequence[KineticsRow],
    video_root: str | os.PathLike,
    class_names: Sequence[str],
    *,
    templates: str | Sequence[str] | None = None,
    batch_size: int = 8,
    num_workers: int | None = None,
    progress: bool = True,
    model_name: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """Zero-shot top-1 / top-5 / AVG (percent), overall and per class, of the videos of ``rows``.

    Videos that cannot be found or decoded are counted and listed; the metrics are over the rest, and
    ``data.evaluated_fraction`` says how much of the split that is.
    """
    templates = resolve_templates(templates)
    class_index = _class_index(rows, class_names)
    index = VideoFileIndex(video_root)

    def encode_prompts(prompts: list[str]) -> torch.Tensor:
        return embedder.encode_text([clean_caption(p) for p in prompts])

    classifier = ZeroShotClassifier.from_encoder(encode_prompts, list(class_names), templates)
    located = [(row, find_kinetics_clip(row, index), row.clip_stem) for row in rows]
    gallery = embed_gallery(embedder, located, batch_size, num_workers, progress)
    results: dict[str, Any] = {
        "benchmark": _benchmark_name(len(class_names)),
        "task": "zero-shot action recognition",
        "model": model_identity(model_name, embedder),
        "protocol": describe_protocol(
            embedder, "pre_text (lowercase, punctuation removed) on every prompt", templates
        ),
        "data": {
            "num_rows": len(rows),
            "num_classes": len(class_names),
            "num_evaluated": len(gallery.items),
            "evaluated_fraction": len(gallery.items) / len(rows),
            **gallery.skipped(),
        },
    }
    if not gallery.items:
        results["metrics"] = {"top1": None, "top5": None, "avg": None, "mean_class_top1": None}
        results["per_class"] = {}
        return results
    labels = torch.tensor([class_index[normalise_name(row.label)] for row in gallery.items], dtype=torch.long)
    scores = classifier.scores(gallery.embeddings)
    metrics = topk_accuracy(scores, labels, ks=(1, 5))
    per_class = per_class_accuracy(scores, labels, class_names)
    class_top1 = [entry["top1"] for entry in per_class.values() if entry["num_videos"]]
    metrics["mean_class_top1"] = sum(class_top1) / len(class_top1)
    results["metrics"] = metrics
    results["per_class"] = per_class
    return results


def _class_index(rows: Sequence[KineticsRow], class_names: Sequence[str]) -> dict[str, int]:
    """``{normalised class name: position}``; every label of ``rows`` must be one of the class names."""
    class_index = {normalise_name(name): i for i, name in enumerate(class_names)}
    unknown = sorted({row.label for row in rows if normalise_name(row.label) not in class_index})
    if unknown:
        raise ValueError(
            f"{len(unknown)} label(s) of the annotations are not among the {len(class_names)} class names, "
            f"e.g. {unknown[:3]} (check --classes)"
        )
    return class_index


def per_class_accuracy(
    scores: torch.Tensor, labels: torch.Tensor, class_names: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """``{class name: {"num_videos", "top1", "top5", "avg"}}``; accuracies are None for a class without videos."""
    out: dict[str, dict[str, Any]] = {}
    for c, name in enumerate(class_names):
        mask = labels == c
        count = int(mask.sum())
        if count == 0:
            out[name] = {"num_videos": 0, "top1": None, "top5": None, "avg": None}
            continue
        accuracy = topk_accuracy(scores[mask], labels[mask], ks=(1, 5))
        out[name] = {"num_videos": count, **accuracy}
    return out


def plot_per_class_accuracy(results: dict[str, Any], path: str | os.PathLike, label_limit: int = 60) -> Path:
    """A PNG of the per-class top-1 accuracy (sorted, top-5 behind it); with more than ``label_limit`` classes
    only the ``label_limit // 2`` worst and best classes are named, in a second panel."""
    from matplotlib.figure import Figure

    entries = sorted(
        ((name, e["top1"], e["top5"]) for name, e in results["per_class"].items() if e["num_videos"]),
        key=lambda entry: entry[1],
    )
    if not entries:
        raise ValueError("no class has an evaluated video: nothing to plot")
    names, top1, top5 = zip(*entries)
    overall = results["metrics"]["top1"]
    named = len(names) <= label_limit
    fig = Figure(figsize=(max(8.0, 0.22 * len(names) + 2) if named else 14.0, 10.0 if not named else 5.5))
    axes = fig.subplots(1 if named else 2, 1, squeeze=False)[:, 0]
    ax = axes[0]
    positions = range(len(names))
    ax.bar(positions, top5, color="#c6dbef", width=1.0 if not named else 0.8, label="top-5")
    ax.bar(positions, top1, color="#2171b5", width=1.0 if not named else 0.8, label="top-1")
    ax.axhline(overall, color="#cb181d", linewidth=1, label=f"overall top-1 {overall:.1f}%")
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 100)
    ax.set_xlim(-0.5, len(names) - 0.5)
    ax.set_title(
        f"{results.get('benchmark', 'Kinetics')} zero-shot accuracy per class ({len(names)} classes)"
    )
    ax.legend(loc="upper left", fontsize=8)
    if named:
        ax.set_xticks(list(positions), [n[:28] for n in names], rotation=75, ha="right", fontsize=7)
    else:
        ax.set_xticks([])
        ax.set_xlabel("classes, sorted by top-1")
        half = label_limit // 2
        shown = list(range(half)) + list(range(len(names) - half, len(names)))
        detail = axes[1]
        detail.bar(range(len(shown)), [top1[i] for i in shown], color="#2171b5")
        detail.axvline(half - 0.5, color="grey", linestyle="--", linewidth=1)
        detail.set_xticks(
            range(len(shown)), [names[i][:28] for i in shown], rotation=75, ha="right", fontsize=7
        )
        detail.set_ylabel("top-1 (%)")
        detail.set_ylim(0, 100)
        detail.set_title(f"the {half} worst and {half} best classes")
    fig.tight_layout()
    return _save_figure(fig, path)


def _save_figure(fig, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    try:
        fig.savefig(tmp, dpi=110)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _benchmark_name(num_classes: int) -> str:
    return (
        f"Kinetics-{num_classes}" if num_classes in KINETICS_VARIANTS else f"Kinetics ({num_classes} classes)"
    )
