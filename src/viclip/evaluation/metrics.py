"""ViCLIP's metrics as local ``evaluate`` modules.

``evaluate.load("name")`` fetches metric scripts from the Hub, which fails offline and runs remote
code. These are plain ``evaluate.Metric`` subclasses instead: instantiate them (or use
:func:`load_metric`) and they work with ``add_batch``/``compute``, ``evaluate.combine`` and
distributed ``num_process``/``process_id`` like any Hub metric, without network access.

By default they keep predictions in memory (``keep_in_memory=True``); pass ``keep_in_memory=False``
(and ``num_process``/``process_id``) for the file-backed distributed mode of ``evaluate``.
"""

from __future__ import annotations

from collections.abc import Sequence

import datasets
import evaluate
import torch

from .retrieval import DEFAULT_KS, retrieval_metrics
from .zero_shot import topk_accuracy

_CITATION = """\
@inproceedings{wang2024internvid,
  title={InternVid: A Large-scale Video-Text Dataset for Multimodal Understanding and Generation},
  author={Wang, Yi and He, Yinan and Li, Yizhuo and others},
  booktitle={ICLR},
  year={2024}
}
"""


class _InMemoryMetric(evaluate.Metric):
    def __init__(self, *args, keep_in_memory: bool | None = None, **kwargs):
        if keep_in_memory is None:
            keep_in_memory = kwargs.get("num_process", 1) == 1
        super().__init__(*args, keep_in_memory=keep_in_memory, **kwargs)


# Both metrics take one row of scores per example and the index of the right column.
_SCORES_AND_INDEX = datasets.Features(
    {"predictions": datasets.Sequence(datasets.Value("float32")), "references": datasets.Value("int64")}
)


class ZeroShotAccuracy(_InMemoryMetric):
    """Zero-shot top-k accuracy (percent) and the paper's ``avg`` = (top-1 + top-5) / 2.

    Inputs: ``predictions`` = one list of class scores per video (any monotone score: cosine,
    logits or probabilities), ``references`` = the true class index. ``compute(..., ks=(1, 5))``.
    Ties are pessimistic (a class scoring as high as the true one is ranked ahead of it). A k above the
    number of classes is not applicable: ``None``.
    """

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description="Top-k accuracy of zero-shot video classification, in percent, and AVG = mean(top1, top5).",
            citation=_CITATION,
            inputs_description=(
                "predictions: list of per-class scores for each video; references: int class index; "
                "ks: tuple of k (default (1, 5))."
            ),
            features=_SCORES_AND_INDEX,
        )

    def _compute(self, predictions, references, ks: Sequence[int] = (1, 5)) -> dict[str, float | None]:
        lengths = {len(p) for p in predictions}
        if len(lengths) > 1:
            raise ValueError(
                f"every prediction must score the same classes; got score lists of lengths {sorted(lengths)}"
            )
        return topk_accuracy(torch.tensor(predictions), torch.tensor(references), ks)


class RetrievalRecall(_InMemoryMetric):
    """Text-video retrieval R@K, median and mean rank in both directions (``t2v_*`` and ``v2t_*``).

    Inputs: one example per caption: ``predictions`` = the caption's similarity to every video of the
    gallery (a row of the ``(texts, videos)`` similarity matrix), ``references`` = the index of its
    video. Several captions may share a video. ``compute(..., ks=(1, 5, 10), dual_softmax=False,
    temperature=100.0)``. See :mod:`viclip.evaluation.retrieval` for the tie rule.
    """

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description="Text-to-video and video-to-text retrieval: R@K in percent, median and mean rank.",
            citation=_CITATION,
            inputs_description=(
                "predictions: the similarity of one caption to every video; references: the caption's video "
                "index; ks: tuple of K; dual_softmax: bool; temperature: float."
            ),
            features=_SCORES_AND_INDEX,
        )

    def _compute(
        self,
        predictions,
        references,
        ks: Sequence[int] = DEFAULT_KS,
        dual_softmax: bool = False,
        temperature: float = 100.0,
    ) -> dict[str, float | None]:
        lengths = {len(p) for p in predictions}
        if len(lengths) > 1:
            raise ValueError(
                f"every caption must be scored against the same videos; got rows of lengths {sorted(lengths)}"
            )
        return retrieval_metrics(
            torch.tensor(predictions),
            torch.tensor(references),
            ks=ks,
            use_dual_softmax=dual_softmax,
            temperature=temperature,
        )


METRICS: dict[str, type[evaluate.Metric]] = {
    "zero_shot_accuracy": ZeroShotAccuracy,
    "retrieval_recall": RetrievalRecall,
}


def load_metric(name: str, **kwargs) -> evaluate.Metric:
    """The offline counterpart of ``evaluate.load``: ``load_metric("zero_shot_accuracy")``."""
    name = name.removeprefix("viclip/")
    if name not in METRICS:
        raise ValueError(f"unknown metric {name!r}; available: {sorted(METRICS)}")
    return METRICS[name](**kwargs)
