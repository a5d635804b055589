# ruff: noqa: F401  (the TYPE_CHECKING imports exist for type checkers and IDEs)
"""Zero-shot use and evaluation of ViCLIP: classification, retrieval, metrics, caching, plots, pipeline.

Names are imported lazily (so ``import viclip.evaluation.pipeline`` does not pull in ``evaluate``,
``datasets`` or matplotlib, which ``import viclip`` imports to register
``pipeline("zero-shot-video-classification")``).
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

_EXPORTS = {
    "ClassificationResult": "classify",
    "ClipPrediction": "classify",
    "LabelScore": "classify",
    "classify_clips": "classify",
    "CacheResult": "embedding_cache",
    "EmbeddingCache": "embedding_cache",
    "RetrievalRecall": "metrics",
    "ZeroShotAccuracy": "metrics",
    "load_metric": "metrics",
    "parse_labels": "labels",
    "read_label_file": "labels",
    "ZeroShotVideoClassificationPipeline": "pipeline",
    "plot_confusion_matrix": "plots",
    "plot_similarity_heatmap": "plots",
    "dual_softmax": "retrieval",
    "retrieval_metrics": "retrieval",
    "cached_video_embeddings": "embedding_cache",
    "evaluate_classification": "tasks",
    "evaluate_retrieval": "tasks",
    "ACTIONCLIP_TEMPLATES": "templates",
    "expand_templates": "templates",
    "resolve_templates": "templates",
    "ZeroShotClassifier": "zero_shot",
    "template_averaged_scores": "zero_shot",
    "topk_accuracy": "zero_shot",
}

__all__ = sorted(_EXPORTS)


if TYPE_CHECKING:
    from .classify import ClassificationResult, ClipPrediction, LabelScore, classify_clips
    from .embedding_cache import CacheResult, EmbeddingCache, cached_video_embeddings
    from .labels import parse_labels, read_label_file
    from .metrics import RetrievalRecall, ZeroShotAccuracy, load_metric
    from .pipeline import ZeroShotVideoClassificationPipeline
    from .plots import plot_confusion_matrix, plot_similarity_heatmap
    from .retrieval import dual_softmax, retrieval_metrics
    from .tasks import evaluate_classification, evaluate_retrieval
    from .templates import ACTIONCLIP_TEMPLATES, expand_templates, resolve_templates
    from .zero_shot import ZeroShotClassifier, template_averaged_scores, topk_accuracy

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
