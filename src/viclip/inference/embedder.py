"""Embedders: a video-text model and its preprocessing, turning texts, frames and video files into L2-normalised
embeddings in batched inference mode. One base, two kinds: ViCLIP (a video model) and image CLIP (frames
averaged); every job that runs a model (evaluation, embedding, scoring) holds one of these.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ..processing import VideoClip
from .text_padding import trim_after_end_of_text

VideoInput = VideoClip | str | tuple | dict | np.ndarray | torch.Tensor


class Embedder:
    """What every embedder shares: the model's device and dtype, batched text encoding, video encoding from
    clips or frames, and a fingerprint of model + preprocessing.

    Subclasses give :meth:`tokenize`, :meth:`preprocess`, :meth:`encode_pixel_values`, the raw
    :meth:`_logit_scale` and :meth:`_preprocessing_settings`.
    """

    def __init__(self, model: torch.nn.Module):
        self.model = model.eval()

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(self.model.parameters()).dtype

    @property
    def logit_scale(self) -> float:
        """``exp(logit_scale)``: the temperature's inverse (100 for the released checkpoints)."""
        return float(self._logit_scale().detach().float().exp())

    def _logit_scale(self) -> torch.Tensor:
        return self.model.logit_scale

    def tokenize(self, texts: Sequence[str]) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def preprocess(self, videos: Sequence[VideoInput]) -> torch.Tensor:
        """Clips or frames -> ``pixel_values_videos`` ``(B, T, C, H, W)``."""
        raise NotImplementedError

    def encode_pixel_values(self, pixel_values_videos: torch.Tensor) -> torch.Tensor:
        """Normalised float32 video embeddings ``(B, dim)`` (on CPU) from preprocessed pixels."""
        raise NotImplementedError

    def _preprocessing_settings(self) -> Any:
        """What the fingerprint must cover besides the weights (the preprocessing)."""
        raise NotImplementedError

    @torch.inference_mode()
    def encode_text(self, texts: Sequence[str], batch_size: int = 256) -> torch.Tensor:
        """``(len(texts), dim)`` L2-normalised float32 text embeddings (on CPU)."""
        if len(texts) == 0:
            raise ValueError("no texts to encode")
        chunks = []
        for start in range(0, len(texts), batch_size):
            inputs = self.tokenize(list(texts[start : start + batch_size]))
            mask = inputs.get("attention_mask")
            features = self.model.get_text_features(
                input_ids=inputs["input_ids"].to(self.device),
                attention_mask=None if mask is None else mask.to(self.device),
            ).pooler_output
            chunks.append(F.normalize(features.float(), dim=-1).cpu())
        return torch.cat(chunks)

    def encode_videos(self, videos: Sequence[VideoInput]) -> torch.Tensor:
        """``(len(videos), dim)`` normalised embeddings of clips or decoded frames (one batch)."""
        if len(videos) == 0:
            raise ValueError("no videos to encode")
        return self.encode_pixel_values(self.preprocess(videos))

    def fingerprint(self) -> str:
        """Identity of model + preprocessing (to resume a cache or refuse mixing embeddings)."""
        from .fingerprint import model_fingerprint

        return model_fingerprint(self.model, *self._preprocessing_settings())


class VideoTextEmbedder(Embedder):
    """A ViCLIP model and its processor.

    Example::

        embedder = VideoTextEmbedder.from_pretrained("path/to/viclip")
        videos = embedder.encode_videos([VideoClip("clip.mp4", start_sec=2.0, end_sec=6.0)])
        texts = embedder.encode_text(["a dog runs"])
        print(videos @ texts.T)  # cosine similarities
    """

    def __init__(self, model: torch.nn.Module, processor: Any, sampling: str | None = None):
        super().__init__(model)
        self.processor = processor
        # None: the video processor's own strategy ("middle", the paper's evaluation, by default).
        self.sampling = sampling

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | os.PathLike,
        device: str | torch.device | None = None,
        dtype: torch.dtype | None = None,
        **kwargs: Any,
    ) -> VideoTextEmbedder:
        """Load model and processor from a saved folder (or Hub id); ``device`` defaults to CUDA when present."""
        from ..modeling import ViCLIPModel
        from ..processing import ViCLIPProcessor

        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        model = ViCLIPModel.from_pretrained(name_or_path, dtype=dtype or torch.float32).to(device)
        return cls(model, ViCLIPProcessor.from_pretrained(name_or_path), **kwargs)

    @property
    def video_processor(self) -> Any:
        return self.processor.video_processor

    def _logit_scale(self) -> torch.Tensor:
        return self.model.logit_scale.clamp(max=self.model.config.logit_scale_max)

    def tokenize(self, texts: Sequence[str]) -> dict[str, torch.Tensor]:
        inputs = self.processor(text=list(texts), return_tensors="pt")
        vocab_size = self.model.config.text_config.vocab_size
        if int(inputs["input_ids"].max()) >= vocab_size:
            raise ValueError(
                f"the tokenizer produced token id {int(inputs['input_ids'].max())} but the model's vocabulary has "
                f"{vocab_size} tokens: the processor does not belong to this model"
            )
        return trim_after_end_of_text(inputs)

    def preprocess(self, videos: Sequence[VideoInput]) -> torch.Tensor:
        """Clips (a :class:`~viclip.processing.VideoClip` or any spelling :meth:`VideoClip.coerce` accepts) or
        frames ``(T, H, W, 3)`` -> ``pixel_values_videos`` ``(B, T, C, H, W)``.

        Files are decoded by the video processor (only the frames it samples); decoding errors raise
        ``viclip.VideoDecodeError`` naming the file.
        """
        inputs = [VideoClip.coerce(v) if VideoClip.is_clip_like(v) else v for v in videos]
        kwargs = {} if self.sampling is None else {"sampling": self.sampling}
        return self.video_processor(videos=inputs, return_tensors="pt", **kwargs)["pixel_values_videos"]

    @torch.inference_mode()
    def encode_pixel_values(self, pixel_values_videos: torch.Tensor) -> torch.Tensor:
        pixels = pixel_values_videos.to(device=self.device, dtype=self.dtype)
        features = self.model.get_video_features(pixel_values_videos=pixels).pooler_output
        return F.normalize(features.float(), dim=-1).cpu()

    def _preprocessing_settings(self) -> tuple:
        video_processor = getattr(self.processor, "video_processor", None)
        settings = video_processor.to_dict() if hasattr(video_processor, "to_dict") else repr(video_processor)
        return settings, self.sampling
