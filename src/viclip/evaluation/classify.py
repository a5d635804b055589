"""Zero-shot classification of video clips: ranked labels per clip, unreadable clips skipped and reported."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from tqdm.auto import tqdm

from ..inference import VideoTextEmbedder
from ..processing.video_clip import VideoClip
from .zero_shot import ZeroShotClassifier


@dataclass(frozen=True)
class LabelScore:
    label: str
    score: float  # softmax over the labels of logit_scale * similarity
    similarity: float  # mean cosine similarity over the templates


@dataclass
class ClipPrediction:
    clip: VideoClip
    labels: list[LabelScore]  # best first


@dataclass
class ClassificationResult:
    predictions: list[ClipPrediction] = field(default_factory=list)
    failed: list[tuple[VideoClip, str]] = field(default_factory=list)  # (clip, why it was skipped)


def classify_clips(
    embedder: VideoTextEmbedder,
    clips: Sequence[Any],
    labels: Sequence[str],
    templates: str | Sequence[str] | None = None,
    *,
    top_k: int = 5,
    batch_size: int = 8,
    progress: bool = False,
) -> ClassificationResult:
    """The ``top_k`` labels of every clip (a path, tuple, dict or :class:`VideoClip`).

    A clip that cannot be read is skipped and listed in ``failed``; the others are still classified.
    """
    clips = [VideoClip.coerce(clip) for clip in clips]
    labels = list(labels)
    classifier = ZeroShotClassifier.from_embedder(embedder, labels, templates)
    result = ClassificationResult()
    bar = tqdm(total=len(clips), desc="classifying videos", unit="video", disable=not progress)
    for start in range(0, len(clips), batch_size):
        batch = clips[start : start + batch_size]
        try:
            kept, embeds = batch, embedder.encode_videos(batch)
        except Exception:  # find the bad clip(s) one by one, keep the others
            kept, rows = [], []
            for clip in batch:
                try:
                    rows.append(embedder.encode_videos([clip]))
                    kept.append(clip)
                except Exception as error:
                    result.failed.append((clip, " ".join(str(error).split()) or type(error).__name__))
            if not kept:
                bar.update(len(batch))
                continue
            embeds = torch.cat(rows)
        probabilities, similarities = classifier.probabilities(embeds), classifier.scores(embeds)
        for clip, probability, similarity in zip(kept, probabilities, similarities):
            order = probability.argsort(descending=True, stable=True)[:top_k].tolist()
            ranked = [LabelScore(labels[i], float(probability[i]), float(similarity[i])) for i in order]
            result.predictions.append(ClipPrediction(clip, ranked))
        bar.update(len(batch))
    bar.close()
    return result
