"""``pipeline("zero-shot-video-classification")``: ViCLIP scores a video against free-form labels.

``import viclip`` registers the task with ``transformers.pipelines.PIPELINE_REGISTRY``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from transformers import Pipeline

from ..inference import VideoTextEmbedder
from ..processing import VideoClip
from .templates import resolve_templates
from .zero_shot import ZeroShotClassifier

TASK = "zero-shot-video-classification"


def _as_video_input(video: Any) -> VideoClip | np.ndarray:
    """A clip (path, ``(path, start_sec, end_sec)``, ``{"path", "start_sec", "end_sec"}`` dict or
    :class:`VideoClip`; an unknown dict key is an error) or frames ``(T, H, W, 3)``."""
    if VideoClip.is_clip_like(video):
        return VideoClip.coerce(video)
    return _as_frames(video)


def _as_frames(frames: Any) -> np.ndarray:
    if isinstance(frames, torch.Tensor):
        frames = frames.detach().cpu().numpy()
    if isinstance(frames, (list, tuple)) and frames and not isinstance(frames[0], (str, os.PathLike)):
        frames = np.stack([np.asarray(frame) for frame in frames])
    if not isinstance(frames, np.ndarray) or frames.ndim != 4 or frames.shape[-1] not in (1, 3):
        shape = getattr(frames, "shape", None)
        raise ValueError(
            "a video must be a file path, a (path, start_sec, end_sec) tuple, a {'path', 'start_sec', 'end_sec'} "
            "dict, a VideoClip, or frames as a (T, H, W, 3) array; "
            f"got {type(frames).__name__}" + (f" of shape {tuple(shape)}" if shape is not None else "")
        )
    return frames


class ZeroShotVideoClassificationPipeline(Pipeline):
    """Zero-shot video classification with ViCLIP.

    Each label is written in every template (default: the 16 ActionCLIP templates of the paper); a
    label's similarity is the mean cosine similarity over its templates, and ``score`` is the softmax
    over the labels of ``logit_scale * similarity`` (``softmax(100 * cos)`` for the released weights).

    Example::

        >>> import viclip
        >>> from transformers import pipeline
        >>> classifier = pipeline("zero-shot-video-classification", model="path/to/viclip")
        >>> classifier("dog.mp4", candidate_labels=["playing fetch", "cooking"], templates="single")
        [{'score': 0.93, 'label': 'playing fetch'}, {'score': 0.07, 'label': 'cooking'}]

    Inputs: a path, a ``(path, start_sec, end_sec)`` tuple, a dict ``{"path": ..., "start_sec": seconds,
    "end_sec": seconds}`` (any other key is an error), a :class:`~viclip.processing.VideoClip`, or decoded frames
    ``(T, H, W, 3)`` uint8 (``T`` = the model's ``num_frames``); a list of those is classified in
    batches of ``batch_size``.
    """

    _load_processor = True
    _load_tokenizer = False
    _load_image_processor = False
    _load_video_processor = False
    _load_feature_extractor = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.processor is None:
            raise ValueError(
                f"the {TASK} pipeline needs a ViCLIPProcessor: pass processor=ViCLIPProcessor(...)"
            )
        if self.tokenizer is None:
            # The base class batches with the tokenizer's pad id; ours pads nothing but needs one.
            self.tokenizer = getattr(self.processor, "tokenizer", None)
        self.encoder = VideoTextEmbedder(self.model, self.processor)
        self._classifiers: dict[tuple, ZeroShotClassifier] = {}

    def __call__(self, videos: Any, candidate_labels: Sequence[str] | None = None, **kwargs: Any):
        """Classify ``videos`` (one or a list) against ``candidate_labels``.

        Args:
            videos: a path, ``(path, start_sec, end_sec)``, ``{"path", "start_sec", "end_sec"}`` dict,
                ``VideoClip``, frames array, or a list of them.
            candidate_labels: the labels (non-empty list of strings).
            templates: ``None``/``"actionclip"`` (the paper's 16), ``"single"`` (the bare label), a template
                with ``{}``, or a list of them. ``hypothesis_template`` is accepted as a synonym.
            top_k: return only the ``top_k`` best labels.
            sampling: frame sampling for files: ``"middle"`` (paper evaluation, default) or ``"demo"``.

        Returns:
            per video, a list of ``{"label", "score", "similarity"}`` sorted by score.
        """
        if candidate_labels is None or isinstance(candidate_labels, str) or len(candidate_labels) == 0:
            raise ValueError(
                "candidate_labels must be a non-empty list of label strings, e.g. candidate_labels=['dancing', 'cooking']"
            )
        return super().__call__(videos, candidate_labels=list(candidate_labels), **kwargs)

    def _sanitize_parameters(
        self,
        candidate_labels=None,
        templates=None,
        hypothesis_template=None,
        top_k=None,
        sampling=None,
        **kwargs,
    ):
        preprocess, forward, postprocess = {}, {}, {}
        if sampling is not None:
            preprocess["sampling"] = sampling
        if candidate_labels is not None:
            forward["candidate_labels"] = candidate_labels
            postprocess["candidate_labels"] = candidate_labels
        if templates is not None and hypothesis_template is not None:
            raise ValueError("give either templates or hypothesis_template, not both")
        chosen = templates if templates is not None else hypothesis_template
        if chosen is not None or candidate_labels is not None:
            forward["templates"] = resolve_templates(chosen)
        if top_k is not None:
            postprocess["top_k"] = int(top_k)
        return preprocess, forward, postprocess

    def preprocess(self, video, sampling: str | None = None):
        video = _as_video_input(video)
        if sampling is not None and sampling != self.encoder.sampling:
            encoder = VideoTextEmbedder(self.model, self.processor, sampling=sampling)
        else:
            encoder = self.encoder
        return {"pixel_values_videos": encoder.preprocess([video])}

    def _classifier(self, labels: list[str], templates: tuple[str, ...]) -> ZeroShotClassifier:
        key = (tuple(labels), templates)
        if key not in self._classifiers:
            if len(self._classifiers) > 32:
                self._classifiers.clear()
            self._classifiers[key] = ZeroShotClassifier.from_embedder(self.encoder, labels, templates)
        return self._classifiers[key]

    def _forward(self, model_inputs, candidate_labels, templates):
        classifier = self._classifier(candidate_labels, templates)
        embeds = self.encoder.encode_pixel_values(model_inputs["pixel_values_videos"])
        similarity = classifier.scores(embeds)
        return {"similarity": similarity, "logits": similarity * classifier.logit_scale}

    def postprocess(self, model_outputs, candidate_labels, top_k: int | None = None):
        similarity = model_outputs["similarity"][0]
        scores = model_outputs["logits"][0].softmax(dim=-1)
        order = scores.argsort(descending=True, stable=True).tolist()
        if top_k is not None:
            order = order[:top_k]
        return [
            {"label": candidate_labels[i], "score": float(scores[i]), "similarity": float(similarity[i])}
            for i in order
        ]
