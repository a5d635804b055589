"""Zero-shot video classification the ViCLIP way: class names x templates, cosine scores averaged.

The paper scores a video against a class as the MEAN OF THE COSINE SIMILARITIES between the video
embedding and the class name written in each template. Because every embedding is L2-normalised,
that mean equals the dot product with the (not re-normalised) mean of the normalised template
embeddings, so a classifier is one ``(num_classes, dim)`` matrix. It is *not* CLIP's
"mean embedding" classifier, which re-normalises the mean and so weights templates differently.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from .templates import expand_templates, resolve_templates


def template_averaged_scores(video_embeds: torch.Tensor, text_embeds: torch.Tensor) -> torch.Tensor:
    """Mean over templates of the cosine similarity, computed literally.

    Args:
        video_embeds: ``(num_videos, dim)``, any norm.
        text_embeds: ``(num_classes, num_templates, dim)``, any norm.

    Returns:
        ``(num_videos, num_classes)`` scores in [-1, 1].
    """
    if text_embeds.ndim != 3:
        raise ValueError(
            f"text_embeds must be (classes, templates, dim), got shape {tuple(text_embeds.shape)}"
        )
    video = F.normalize(video_embeds.float(), dim=-1)
    text = F.normalize(text_embeds.float(), dim=-1)
    return torch.einsum("vd,ctd->vct", video, text).mean(dim=-1)


@dataclass
class ZeroShotClassifier:
    """A zero-shot classifier: ``weights[c]`` is the mean of the normalised embeddings of class ``c``'s prompts.

    ``scores(video_embeds)`` returns the mean cosine similarity over templates; ``logits`` scales it by
    the model's logit scale (``1 / temp`` of the original), which is what a softmax should see.
    """

    class_names: list[str]
    templates: tuple[str, ...]
    weights: torch.Tensor  # (num_classes, dim), rows are NOT re-normalised on purpose
    logit_scale: float = 100.0

    @classmethod
    def from_text_embeddings(
        cls,
        class_names: Sequence[str],
        templates: Sequence[str],
        text_embeds: torch.Tensor,
        logit_scale: float = 100.0,
    ) -> ZeroShotClassifier:
        """Build from ``(num_classes * num_templates, dim)`` embeddings in class-major order
        (the order of :func:`viclip.evaluation.templates.expand_templates`)."""
        num_classes, num_templates = len(class_names), len(templates)
        if text_embeds.shape[0] != num_classes * num_templates:
            raise ValueError(
                f"expected {num_classes} classes x {num_templates} templates = {num_classes * num_templates} "
                f"text embeddings, got {text_embeds.shape[0]}"
            )
        normed = F.normalize(text_embeds.float(), dim=-1).reshape(num_classes, num_templates, -1)
        return cls(list(class_names), tuple(templates), normed.mean(dim=1), float(logit_scale))

    @classmethod
    def from_encoder(
        cls,
        encode_text: Callable[[list[str]], torch.Tensor],
        class_names: Sequence[str],
        templates: str | Sequence[str] | None = None,
        logit_scale: float = 100.0,
        batch_size: int = 256,
    ) -> ZeroShotClassifier:
        """Build by calling ``encode_text(prompts) -> (len(prompts), dim)`` on every class x template prompt.

        ``templates``: ``None``/``"actionclip"`` for the paper's 16, ``"single"`` for ``"{}"``, or your own.
        """
        templates = resolve_templates(templates)
        prompts = expand_templates(list(class_names), templates)
        chunks = [encode_text(prompts[i : i + batch_size]) for i in range(0, len(prompts), batch_size)]
        return cls.from_text_embeddings(class_names, templates, torch.cat(chunks).cpu(), logit_scale)

    @classmethod
    def from_embedder(
        cls,
        embedder: Any,
        class_names: Sequence[str],
        templates: str | Sequence[str] | None = None,
        batch_size: int = 256,
    ) -> ZeroShotClassifier:
        """A classifier over ``class_names`` from an embedder (:mod:`viclip.inference`), at its logit scale."""
        return cls.from_encoder(
            embedder.encode_text,
            class_names,
            templates,
            logit_scale=embedder.logit_scale,
            batch_size=batch_size,
        )

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def scores(self, video_embeds: torch.Tensor) -> torch.Tensor:
        """``(num_videos, num_classes)`` mean cosine similarity over templates."""
        video = F.normalize(video_embeds.float(), dim=-1)
        return video @ self.weights.to(video.device).T

    def logits(self, video_embeds: torch.Tensor) -> torch.Tensor:
        return self.scores(video_embeds) * self.logit_scale

    def probabilities(self, video_embeds: torch.Tensor) -> torch.Tensor:
        """Softmax over the classes of ``logit_scale * scores`` (the demo's ``softmax(100 * cos)``)."""
        return self.logits(video_embeds).softmax(dim=-1)

    def predict(self, video_embeds: torch.Tensor, top_k: int = 5) -> list[list[tuple[str, float]]]:
        """Top-k ``(class name, probability)`` per video, best first."""
        probs = self.probabilities(video_embeds)
        values, indices = probs.topk(min(top_k, self.num_classes), dim=-1)
        return [
            [(self.class_names[i], float(v)) for v, i in zip(row_v.tolist(), row_i.tolist())]
            for row_v, row_i in zip(values, indices)
        ]


def topk_accuracy(
    scores: torch.Tensor, labels: Sequence[int] | torch.Tensor, ks: Sequence[int] = (1, 5)
) -> dict[str, float | None]:
    """Top-k accuracy in percent, plus ``avg`` = mean of top-1 and top-5 (the paper's "AVG") when both are asked.

    Ties are pessimistic: a class scoring exactly as high as the true one counts as ranked ahead of it.
    A k larger than the number of classes is not applicable (every prediction would be correct): its value,
    and ``avg`` if it needs it, is ``None``.
    """
    scores = torch.as_tensor(scores).float()
    labels = torch.as_tensor(labels, dtype=torch.long).flatten()
    if scores.ndim != 2 or scores.shape[0] != len(labels):
        raise ValueError(
            f"scores must be (num_videos, num_classes) with one label per video: {tuple(scores.shape)} vs {len(labels)} labels"
        )
    if len(labels) == 0:
        raise ValueError("no predictions to score")
    if labels.min() < 0 or labels.max() >= scores.shape[1]:
        raise ValueError(f"labels must lie in [0, {scores.shape[1]}) (the number of classes)")
    true_scores = scores.gather(1, labels[:, None])
    rank = (scores >= true_scores).sum(dim=1)  # 1-based: the true class counts itself once
    num_classes = scores.shape[1]
    out = {f"top{k}": float((rank <= k).double().mean() * 100) if k <= num_classes else None for k in ks}
    if 1 in ks and 5 in ks:
        out["avg"] = None if out["top5"] is None else (out["top1"] + out["top5"]) / 2
    return out
