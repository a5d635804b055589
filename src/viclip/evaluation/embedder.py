"""Turn texts, frames and video files into normalised ViCLIP embeddings (the one place that runs the model)."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ..processing import VideoClip
from .zero_shot import ZeroShotClassifier


class VideoTextEmbedder:
    """A ViCLIP model and its processor, with batched, inference-mode helpers returning normalised embeddings.

    Example::

        encoder = VideoTextEmbedder.from_pretrained("path/to/viclip")
        classifier = encoder.classifier(["dancing", "cooking"])  # 16 ActionCLIP templates
        print(classifier.predict(encoder.encode_videos([VideoClip("clip.mp4", start_sec=2.0, end_sec=6.0)])))
    """

    def __init__(self, model, processor, sampling: str | None = None):
        self.model = model.eval()
        self.processor = processor
        # None: the video processor's own strategy ("middle", the paper's evaluation, by default).
        self.sampling = sampling

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | os.PathLike,
        device: str | torch.device | None = None,
        dtype: torch.dtype | None = None,
        **kwargs,
    ) -> VideoTextEmbedder:
        """Load model and processor from a saved folder (or Hub id); ``device`` defaults to CUDA when present."""
        from ..modeling import ViCLIPModel
        from ..processing import ViCLIPProcessor

        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        model = ViCLIPModel.from_pretrained(name_or_path, dtype=dtype or torch.float32).to(device)
        return cls(model, ViCLIPProcessor.from_pretrained(name_or_path), **kwargs)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(self.model.parameters()).dtype

    @property
    def logit_scale(self) -> float:
        """``exp(logit_scale)``, i.e. ``1 / temp`` of the original (100 for the released checkpoints)."""
        scale = self.model.logit_scale.detach().float().clamp(max=self.model.config.logit_scale_max)
        return float(scale.exp())

    def tokenize(self, texts: Sequence[str]) -> dict[str, torch.Tensor]:
        inputs = self.processor(text=list(texts), return_tensors="pt")
        vocab_size = self.model.config.text_config.vocab_size
        if int(inputs["input_ids"].max()) >= vocab_size:
            raise ValueError(
                f"the tokenizer produced token id {int(inputs['input_ids'].max())} but the model's vocabulary has "
                f"{vocab_size} tokens: the processor does not belong to this model"
            )
        return inputs

    @torch.inference_mode()
    def encode_text(self, texts: Sequence[str], batch_size: int = 256) -> torch.Tensor:
        """``(len(texts), dim)`` L2-normalised float32 text embeddings (on CPU)."""
        if len(texts) == 0:
            raise ValueError("no texts to encode")
        chunks = []
        for start in range(0, len(texts), batch_size):
            inputs = self.tokenize(texts[start : start + batch_size])
            features = self.model.get_text_features(
                input_ids=inputs["input_ids"].to(self.device),
                attention_mask=inputs["attention_mask"].to(self.device)
                if "attention_mask" in inputs
                else None,
            ).pooler_output
            chunks.append(F.normalize(features.float(), dim=-1).cpu())
        return torch.cat(chunks)

    def preprocess(
        self, videos: Sequence[VideoClip | str | tuple | dict | np.ndarray | torch.Tensor]
    ) -> torch.Tensor:
        """Clips (a :class:`~viclip.processing.VideoClip` or any spelling :meth:`VideoClip.coerce` accepts) or
        frames ``(T, H, W, 3)`` -> ``pixel_values_videos`` ``(B, T, C, H, W)``.

        Files are decoded by the video processor (only the frames it samples); decoding errors raise
        ``viclip.VideoDecodeError`` naming the file.
        """
        inputs = [VideoClip.coerce(v) if VideoClip.is_clip_like(v) else v for v in videos]
        kwargs = {} if self.sampling is None else {"sampling": self.sampling}
        return self.processor.video_processor(videos=inputs, return_tensors="pt", **kwargs)[
            "pixel_values_videos"
        ]

    @torch.inference_mode()
    def encode_pixel_values(self, pixel_values_videos: torch.Tensor) -> torch.Tensor:
        """Normalised float32 video embeddings from already preprocessed ``(B, T, C, H, W)`` pixels."""
        pixels = pixel_values_videos.to(device=self.device, dtype=self.dtype)
        features = self.model.get_video_features(pixel_values_videos=pixels).pooler_output
        return F.normalize(features.float(), dim=-1).cpu()

    def encode_videos(
        self, videos: Sequence[VideoClip | str | tuple | dict | np.ndarray | torch.Tensor]
    ) -> torch.Tensor:
        """``(len(videos), dim)`` normalised embeddings of clips or decoded frames (one batch)."""
        if len(videos) == 0:
            raise ValueError("no videos to encode")
        return self.encode_pixel_values(self.preprocess(videos))

    def classifier(
        self, class_names: Sequence[str], templates: str | Sequence[str] | None = None, batch_size: int = 256
    ) -> ZeroShotClassifier:
        """A zero-shot classifier over ``class_names`` (``templates``: ``None``/"actionclip" = the paper's 16,
        "single" = the bare name, or your own list with ``{}``)."""
        return ZeroShotClassifier.from_encoder(
            self.encode_text, class_names, templates, logit_scale=self.logit_scale, batch_size=batch_size
        )

    def fingerprint(self) -> str:
        """Identity of model + preprocessing, for :class:`~viclip.evaluation.embedding_cache.EmbeddingCache`."""
        from .fingerprint import model_fingerprint

        video_processor = getattr(self.processor, "video_processor", None)
        settings = video_processor.to_dict() if hasattr(video_processor, "to_dict") else repr(video_processor)
        return model_fingerprint(self.model, settings, self.sampling)
