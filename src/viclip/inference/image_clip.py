"""An image CLIP (transformers' ``CLIPModel``) as a video-text embedder: the paper's CLIP baselines (Table 1).

Every sampled frame is embedded with ``get_image_features`` and the L2-normalised frame embeddings are averaged.
Frames are read with the same ``ViCLIPVideoProcessor`` evaluation settings as ViCLIP, so the frames, their
sampling and the resize are identical; only the normalisation follows each model's training (ImageNet mean/std
for ViCLIP, the model's own for CLIP, as the original ``create_dataset`` chose by encoder name).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from ..processing import ViCLIPVideoProcessor
from .embedder import Embedder, VideoInput

# The mean/std OpenAI CLIP was trained with (CLIPImageProcessor's defaults).
OPENAI_CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_CLIP_STD = (0.26862954, 0.26130258, 0.27577711)

FRAME_POOLING = "mean of the L2-normalised per-frame image embeddings (then L2-normalised)"


def paper_video_processor(image_size: int, num_frames: int, **overrides: Any) -> ViCLIPVideoProcessor:
    """The original evaluation transform: ``num_frames`` "middle" frames, ``Resize((size, size))`` bicubic
    without antialias (tensor resize of torchvision < 0.17), no crop, ImageNet mean/std unless overridden."""
    return ViCLIPVideoProcessor.for_model(
        image_size=image_size, num_frames=num_frames, sampling="middle", do_center_crop=False, **overrides
    )


class ImageCLIPEmbedder(Embedder):
    """A transformers ``CLIPModel`` used as a video-text model (frames averaged); texts use its own tokenizer."""

    pooling = FRAME_POOLING

    def __init__(self, model: torch.nn.Module, tokenizer: Any, video_processor: ViCLIPVideoProcessor):
        super().__init__(model)
        self.tokenizer = tokenizer
        self.video_processor = video_processor

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | os.PathLike,
        device: str | torch.device = "cpu",
        dtype: torch.dtype = torch.float32,
        num_frames: int = 8,
    ) -> ImageCLIPEmbedder:
        from transformers import AutoTokenizer, CLIPModel

        model = CLIPModel.from_pretrained(name_or_path, dtype=dtype).to(device)
        tokenizer = AutoTokenizer.from_pretrained(name_or_path)
        mean, std = _image_mean_std(name_or_path)
        video_processor = paper_video_processor(
            model.config.vision_config.image_size, num_frames, image_mean=mean, image_std=std
        )
        return cls(model, tokenizer, video_processor)

    def tokenize(self, texts: Sequence[str]) -> dict[str, torch.Tensor]:
        return self.tokenizer(
            list(texts),
            padding=True,
            truncation=True,
            max_length=self.model.config.text_config.max_position_embeddings,
            return_tensors="pt",
        )

    def preprocess(self, videos: Sequence[VideoInput]) -> torch.Tensor:
        """Clips -> ``(B, T, C, H, W)`` pixels: the same frames and resize as ViCLIP, CLIP's mean/std."""
        return self.video_processor(videos=list(videos), return_tensors="pt")["pixel_values_videos"]

    @torch.inference_mode()
    def encode_pixel_values(self, pixel_values_videos: torch.Tensor) -> torch.Tensor:
        """``(B, dim)``: each frame through ``get_image_features``, normalised, averaged over frames."""
        batch, frames = pixel_values_videos.shape[:2]
        pixels = pixel_values_videos.flatten(0, 1).to(device=self.device, dtype=self.dtype)
        features = self.model.get_image_features(pixel_values=pixels).pooler_output
        per_frame = F.normalize(features.float(), dim=-1).reshape(batch, frames, -1)
        return F.normalize(per_frame.mean(dim=1), dim=-1).cpu()

    def _preprocessing_settings(self) -> tuple:
        return self.video_processor.to_dict(), self.pooling


def _image_mean_std(name_or_path: str | os.PathLike) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The image mean/std of the model's saved image processor, OpenAI CLIP's when it has none."""
    try:
        from transformers import AutoImageProcessor

        image_processor = AutoImageProcessor.from_pretrained(name_or_path)
        return tuple(image_processor.image_mean), tuple(image_processor.image_std)
    except (OSError, ValueError, AttributeError, TypeError):
        return OPENAI_CLIP_MEAN, OPENAI_CLIP_STD
