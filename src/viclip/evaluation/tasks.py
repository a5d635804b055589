"""End-to-end evaluations: zero-shot classification and text-video retrieval on a video list."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import torch

from ..data.video_list import CaptionedVideos, LabelledVideo
from ..inference import VideoTextEmbedder
from .embedding_cache import cached_video_embeddings
from .metrics import RetrievalRecall, ZeroShotAccuracy
from .plots import plot_confusion_matrix, plot_similarity_heatmap
from .zero_shot import ZeroShotClassifier


def evaluate_classification(
    encoder: VideoTextEmbedder,
    videos: Sequence[LabelledVideo],
    class_names: Sequence[str] | None = None,
    templates: str | Sequence[str] | None = None,
    batch_size: int = 8,
    cache_path: str | os.PathLike | None = None,
    plot_path: str | os.PathLike | None = None,
    progress: bool = True,
) -> dict:
    """Zero-shot top-1 / top-5 / AVG (percent) of ``videos`` against ``class_names``.

    ``class_names`` defaults to the sorted distinct labels of ``videos``; every label must be one of
    them. ``templates``: ``None`` = the paper's 16 ActionCLIP templates (mean of cosine similarities).
    Returns the metrics plus per-video predictions; writes a confusion matrix PNG to ``plot_path``.
    """
    if not videos:
        raise ValueError("no videos to evaluate")
    class_names = sorted({v.label for v in videos}) if class_names is None else list(class_names)
    index = {name: i for i, name in enumerate(class_names)}
    unknown = sorted({v.label for v in videos} - set(index))
    if unknown:
        raise ValueError(f"labels {unknown[:5]} are not among the {len(class_names)} class names")
    classifier = ZeroShotClassifier.from_embedder(encoder, class_names, templates)
    embedded = cached_video_embeddings(
        encoder, [v.item for v in videos], cache_path, batch_size, progress=progress
    )
    scores = classifier.scores(embedded.embeddings)
    references = [index[v.label] for v in videos]

    metric = ZeroShotAccuracy()
    metric.add_batch(predictions=scores.tolist(), references=references)
    results = metric.compute(ks=(1, 5))
    predicted = scores.argmax(dim=-1).tolist()
    results.update(
        num_videos=len(videos),
        num_classes=len(class_names),
        num_templates=len(classifier.templates),
        predictions=[
            {
                "path": v.item.path,
                "start_sec": v.item.start_sec,
                "end_sec": v.item.end_sec,
                "label": v.label,
                "predicted": class_names[p],
            }
            for v, p in zip(videos, predicted)
        ],
    )
    if plot_path is not None:
        results["plot"] = str(plot_confusion_matrix(predicted, references, class_names, plot_path))
    return results


def evaluate_retrieval(
    encoder: VideoTextEmbedder,
    gallery: CaptionedVideos,
    batch_size: int = 8,
    dual_softmax: bool = False,
    temperature: float = 100.0,
    cache_path: str | os.PathLike | None = None,
    plot_path: str | os.PathLike | None = None,
    progress: bool = True,
) -> dict:
    """Text-to-video and video-to-text R@1/5/10, median and mean rank (several captions per video allowed).

    With ``dual_softmax`` both the plain and the re-ranked metrics are returned (``dsl_`` prefix).
    ``plot_path``: a PNG heat map of the caption x video cosine similarities.
    """
    embedded = cached_video_embeddings(encoder, gallery.videos, cache_path, batch_size, progress=progress)
    similarity = encoder.encode_text(gallery.captions) @ embedded.embeddings.T
    metric = RetrievalRecall()
    rows = similarity.tolist()
    results = metric.compute(predictions=rows, references=gallery.caption_to_video)
    if dual_softmax:
        reranked = RetrievalRecall().compute(
            predictions=rows, references=gallery.caption_to_video, dual_softmax=True, temperature=temperature
        )
        results.update({f"dsl_{k}": v for k, v in reranked.items()})
    results.update(num_videos=len(gallery.videos), num_captions=len(gallery.captions))
    if plot_path is not None:
        names = [Path(v.path).name for v in gallery.videos]
        results["plot"] = str(
            plot_similarity_heatmap(
                similarity, plot_path, gallery.captions, names, title="Caption-video cosine similarity"
            )
        )
    return results


def write_json(results: dict, path: str | os.PathLike) -> Path:
    """Write ``results`` as indented JSON atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(
            json.dumps(
                results, indent=2, default=lambda o: o.tolist() if isinstance(o, torch.Tensor) else str(o)
            )
            + "\n"
        )
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
