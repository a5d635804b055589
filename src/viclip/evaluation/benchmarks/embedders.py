"""The two kinds of model a benchmark runs: ViCLIP (a video model) and any image CLIP (frames averaged).

Both are driven through the same interface as :class:`~viclip.evaluation.VideoTextEmbedder`
(``preprocess``, ``encode_pixel_values``, ``encode_text``, ``logit_scale``, ``fingerprint``) and both read
frames with the same ``ViCLIPVideoProcessor`` evaluation settings, so the frames, their sampling and the
resize are identical; only the normalisation follows each model's training (ImageNet mean/std for ViCLIP,
the model's own for CLIP, as the original ``create_dataset`` chose by encoder name).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from transformers.image_utils import PILImageResampling

from ...processing import ViCLIPProcessor, ViCLIPVideoProcessor, VideoClip
from ..embedder import VideoTextEmbedder

# The mean/std OpenAI CLIP was trained with (CLIPImageProcessor's defaults).
OPENAI_CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_CLIP_STD = (0.26862954, 0.26130258, 0.27577711)

FRAME_POOLING = "mean of the L2-normalised per-frame image embeddings (then L2-normalised)"


class ImageCLIPEmbedder:
    """A transformers ``CLIPModel`` used as a video-text model: every sampled frame is embedded with
    ``get_image_features`` and the L2-normalised frame embeddings are averaged into the video embedding.

    Same interface as :class:`~viclip.evaluation.VideoTextEmbedder`; texts use the model's own tokenizer.
    """

    pooling = FRAME_POOLING

    def __init__(self, model, tokenizer, video_processor: ViCLIPVideoProcessor):
        self.model = model.eval()
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

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(self.model.parameters()).dtype

    @property
    def logit_scale(self) -> float:
        return float(self.model.logit_scale.detach().float().exp())

    @torch.inference_mode()
    def encode_text(self, texts: Sequence[str], batch_size: int = 256) -> torch.Tensor:
        """``(len(texts), dim)`` L2-normalised float32 text embeddings (on CPU)."""
        if len(texts) == 0:
            raise ValueError("no texts to encode")
        max_length = self.model.config.text_config.max_position_embeddings
        chunks = []
        for start in range(0, len(texts), batch_size):
            inputs = self.tokenizer(
                list(texts[start : start + batch_size]),
                padding=True,
                truncation=True,
                max_length=max_length,
                return_tensors="pt",
            )
            features = self.model.get_text_features(
                input_ids=inputs["input_ids"].to(self.device),
                attention_mask=inputs["attention_mask"].to(self.device),
            ).pooler_output
            chunks.append(F.normalize(features.float(), dim=-1).cpu())
        return torch.cat(chunks)

    def preprocess(self, videos: Sequence[VideoClip | Any]) -> torch.Tensor:
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

    def encode_videos(self, videos: Sequence[VideoClip | Any]) -> torch.Tensor:
        if len(videos) == 0:
            raise ValueError("no videos to encode")
        return self.encode_pixel_values(self.preprocess(videos))

    def fingerprint(self) -> str:
        from ..fingerprint import model_fingerprint

        return model_fingerprint(self.model, self.video_processor.to_dict(), self.pooling)


def paper_video_processor(image_size: int, num_frames: int, **overrides: Any) -> ViCLIPVideoProcessor:
    """The original evaluation transform: ``num_frames`` "middle" frames, ``Resize((size, size))`` bicubic
    without antialias (tensor resize of torchvision < 0.17), no crop, ImageNet mean/std unless overridden."""
    return ViCLIPVideoProcessor.for_model(
        image_size=image_size, num_frames=num_frames, sampling="middle", do_center_crop=False, **overrides
    )


def read_model_config(name_or_path: str | os.PathLike) -> tuple[str, str | None]:
    """``(model_type, revision)`` of a saved folder (revision ``None``) or a Hub model (the snapshot commit)."""
    path = Path(name_or_path)
    revision = None
    if path.is_dir():
        config_file = path / "config.json"
        if not config_file.is_file():
            raise FileNotFoundError(f"{str(path)!r} has no config.json: not a saved model folder")
    else:
        from huggingface_hub import hf_hub_download

        config_file = Path(hf_hub_download(str(name_or_path), "config.json"))
        revision = config_file.parent.name  # the cache keeps files under snapshots/<commit>/
    try:
        model_type = json.loads(config_file.read_text(encoding="utf-8")).get("model_type")
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"cannot read {config_file}: {error}") from None
    if not model_type:
        raise ValueError(f"{config_file} has no model_type")
    return model_type, revision


def load_benchmark_embedder(
    name_or_path: str | os.PathLike,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
):
    """A ViCLIP folder/Hub id -> :class:`VideoTextEmbedder` with the paper's evaluation transform;
    a CLIP one (``model_type`` "clip") -> :class:`ImageCLIPEmbedder`. Anything else is an error."""
    model_type, _ = read_model_config(name_or_path)
    if model_type == "clip":
        return ImageCLIPEmbedder.from_pretrained(name_or_path, device=device, dtype=dtype)
    if model_type != "viclip":
        raise ValueError(
            f"{str(name_or_path)!r} is a {model_type!r} model; the benchmarks run ViCLIP (model_type 'viclip') "
            "or an image CLIP (model_type 'clip')"
        )
    from ...modeling import ViCLIPModel

    model = ViCLIPModel.from_pretrained(name_or_path, dtype=dtype).to(device)
    saved = ViCLIPProcessor.from_pretrained(name_or_path)
    vision = model.config.vision_config
    # The saved processor's tokenizer, but always the paper's frames and transform (a folder may carry the demo's).
    processor = ViCLIPProcessor(
        video_processor=paper_video_processor(vision.image_size, vision.num_frames), tokenizer=saved.tokenizer
    )
    return VideoTextEmbedder(model, processor)


def model_kind(embedder) -> str:
    return "clip" if isinstance(embedder, ImageCLIPEmbedder) else "viclip"


def video_processor_of(embedder) -> ViCLIPVideoProcessor:
    if isinstance(embedder, ImageCLIPEmbedder):
        return embedder.video_processor
    return embedder.processor.video_processor


def describe_protocol(embedder, text_cleaning: str, templates: Sequence[str] | None = None) -> dict[str, Any]:
    """What was done to frames and texts, for the results file (so two runs can be compared)."""
    processor = video_processor_of(embedder)
    size = processor.size
    protocol: dict[str, Any] = {
        "frames": int(processor.num_frames),
        "sampling": f"{processor.sampling}: {processor.num_frames} equal segments of the clip, the middle frame "
        "of each ((start + end - 1) // 2), as the original dataset/video_utils.py sample_type 'middle'",
        "views": "1 clip x 1 crop",
        "resize": f"({size['height']}, {size['width']}) straight, aspect not kept, no crop",
        "interpolation": PILImageResampling(processor.resample).name.lower()
        + ("" if processor.antialias else ", no antialias"),
        "normalisation": {"mean": list(processor.image_mean), "std": list(processor.image_std)},
        "text_cleaning": text_cleaning,
        "similarity": "cosine of L2-normalised embeddings",
        "dtype": str(embedder.dtype).replace("torch.", ""),
    }
    if isinstance(embedder, ImageCLIPEmbedder):
        protocol["frame_pooling"] = FRAME_POOLING
    if templates is not None:
        protocol["templates"] = list(templates)
        protocol["template_scoring"] = (
            "mean over templates of the cosine similarity (the original get_sim 'mean')"
        )
    return protocol


def model_identity(name_or_path: str | os.PathLike | None, embedder) -> dict[str, Any]:
    """Model name, kind, Hub revision (the commit, when loaded from the Hub) and a weights fingerprint."""
    model_type, revision = embedder.model.config.model_type, None
    if name_or_path is not None:
        model_type, revision = read_model_config(name_or_path)
    return {
        "name": None if name_or_path is None else str(name_or_path),
        "kind": model_kind(embedder),
        "model_type": model_type,
        "revision": revision,
        "fingerprint": embedder.fingerprint(),
        "num_parameters": sum(p.numel() for p in embedder.model.parameters()),
    }


def _image_mean_std(name_or_path: str | os.PathLike) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The image mean/std of the model's saved image processor, OpenAI CLIP's when it has none."""
    try:
        from transformers import AutoImageProcessor

        image_processor = AutoImageProcessor.from_pretrained(name_or_path)
        return tuple(image_processor.image_mean), tuple(image_processor.image_std)
    except (OSError, ValueError, AttributeError, TypeError):
        return OPENAI_CLIP_MEAN, OPENAI_CLIP_STD
