"""MSR-VTT 1k-A zero-shot text-video retrieval as in the ViCLIP paper, with and without dual softmax.

The 1k-A split is ``MSRVTT_JSFUSION_test.csv`` (``key,vid_key,video_id,sentence``): 1000 videos, one caption
each. The original evaluation (``InternVideo1/Pretrain/ViCLIP/tasks/retrieval_utils.py``,
``evaluation_video_clip``) ranks by the cosine similarity ``get_sim`` returns (``temp=1``) and also reports
a dual-softmax re-ranking of that same matrix, ``scores * scores.softmax(dim=0)`` with the softmax over the
*queries* of each direction and no temperature; captions are cleaned with ``pre_text`` first.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...processing import VideoClip, clean_caption
from ..retrieval import retrieval_metrics
from .csv_records import read_csv_records
from .embedders import describe_protocol, model_identity
from .embedding import embed_gallery
from .video_files import VideoFileIndex

REQUIRED_COLUMNS: tuple[str, ...] = ("video_id", "sentence")
# The original applies the dual softmax to raw cosine similarities: temperature 1 (get_sim's default temp).
ORIGINAL_DUAL_SOFTMAX_TEMPERATURE = 1.0


@dataclass(frozen=True)
class MSRVTTPair:
    """One row of ``MSRVTT_JSFUSION_test.csv``: a video id (``video7579``) and its caption."""

    video_id: str
    sentence: str
    line: int


def read_msrvtt_csv(path: str | os.PathLike) -> list[MSRVTTPair]:
    """The caption-video pairs of an MSR-VTT JSFusion CSV (``key,vid_key,video_id,sentence``)."""
    path = Path(path)
    records = read_csv_records(
        path,
        REQUIRED_COLUMNS,
        "an MSR-VTT JSFusion CSV",
        "key,vid_key,video_id,sentence",
        non_empty=REQUIRED_COLUMNS,
    )
    return [MSRVTTPair(record["video_id"], record["sentence"], line) for line, record in records]


def evaluate_msrvtt(
    embedder,
    pairs: Sequence[MSRVTTPair],
    video_root: str | os.PathLike,
    *,
    batch_size: int = 8,
    num_workers: int | None = None,
    progress: bool = True,
    model_name: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """t2v and v2t R@1/5/10, median and mean rank, plain and dual-softmax, side by side.

    Videos that cannot be found or decoded are left out of the gallery with their captions, counted and
    listed; ``data.evaluated_fraction`` says how much of the split the numbers cover.
    """
    index = VideoFileIndex(video_root)
    video_ids = list(dict.fromkeys(pair.video_id for pair in pairs))
    located = [(video_id, _clip(index.find(video_id)), video_id) for video_id in video_ids]
    gallery = embed_gallery(embedder, located, batch_size, num_workers, progress)
    column = {video_id: j for j, video_id in enumerate(gallery.items)}
    kept = [pair for pair in pairs if pair.video_id in column]

    results: dict[str, Any] = {
        "benchmark": "MSR-VTT 1k-A",
        "task": "zero-shot text-video retrieval",
        "model": model_identity(model_name, embedder),
        "protocol": {
            **describe_protocol(embedder, "pre_text (lowercase, punctuation removed) on every caption"),
            "dual_softmax": "scores * scores.softmax(dim=0) over the queries of each direction, on the cosine "
            "similarities (temperature 1), as the original evaluation_video_clip",
            "ties": "counted against the query (pessimistic)",
        },
        "data": {
            "num_captions": len(pairs),
            "num_videos": len(video_ids),
            "num_evaluated_videos": len(gallery.items),
            "num_evaluated_captions": len(kept),
            "evaluated_fraction": len(gallery.items) / len(video_ids),
            **gallery.skipped(),
        },
    }
    if not kept:
        results["metrics"] = {"plain": None, "dual_softmax": None}
        return results
    text_embeds = embedder.encode_text([clean_caption(pair.sentence) for pair in kept])
    similarity = text_embeds @ gallery.embeddings.T  # (captions, videos), cosine
    caption_to_video = [column[pair.video_id] for pair in kept]
    results["metrics"] = {
        "plain": retrieval_metrics(similarity, caption_to_video),
        "dual_softmax": retrieval_metrics(
            similarity,
            caption_to_video,
            use_dual_softmax=True,
            temperature=ORIGINAL_DUAL_SOFTMAX_TEMPERATURE,
        ),
    }
    return results


def _clip(path: Path | None) -> VideoClip | None:
    return None if path is None else VideoClip(path)
