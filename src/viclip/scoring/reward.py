"""``ViCLIPReward``: ViCLIP's text-video cosine as a differentiable reward on generated videos.

The frames go through the same maths as ``viclip score`` (frame choice, resize, crop, uint8 levels,
normalisation), as torch operations with gradients to the pixels; the model's weights are frozen; prompts are
encoded once and cached.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..inference.text_padding import trim_after_end_of_text
from ..processing import sample_frame_indices
from .protocols import PROTOCOLS
from .vbench import IMAGE_SIZE, NUM_FRAMES, OPENAI_CLIP_MEAN, OPENAI_CLIP_STD, vbench_frame_indices


def _round_straight_through(x: torch.Tensor) -> torch.Tensor:
    """``x`` rounded to uint8 levels (clamped to [0, 255]) in the forward pass, identity for the gradient."""
    return x + (x.clamp(0, 255).round() - x).detach()


def _resize_short_side(frames: torch.Tensor, size: int) -> torch.Tensor:
    """torchvision's ``Resize(size)``: the short side to ``size``, the long side ``int(size * long / short)``."""
    height, width = frames.shape[-2:]
    if height <= width:
        shape = (size, int(size * width / height))
    else:
        shape = (int(size * height / width), size)
    return F.interpolate(frames, size=shape, mode="bicubic", align_corners=False, antialias=False)


def _center_crop(frames: torch.Tensor, size: int) -> torch.Tensor:
    """torchvision's ``center_crop`` (the frames are at least ``size`` on both sides here)."""
    height, width = frames.shape[-2:]
    top, left = round((height - size) / 2.0), round((width - size) / 2.0)
    return frames[..., top : top + size, left : left + size]


class ViCLIPReward(nn.Module):
    """One reward per generated video: the cosine between its ViCLIP video features and its prompt's.

    Args:
        model: a ``ViCLIPModel``; its weights are frozen (``requires_grad_(False)``) and it is put in eval mode.
        processor: its ``ViCLIPProcessor`` (the tokenizer; for ``protocol="viclip"`` also the frames, size and
            mean/std of its video processor).
        protocol: ``"viclip"`` (the model's processor: ``num_frames`` middle frames, a straight resize to the
            model's size, ImageNet mean/std) or ``"vbench"`` (VBench: 8 frames by its rule, the short side to 224,
            centre crop, OpenAI CLIP mean/std).
        quantize: round the resized frames to uint8 levels, as the scorer's uint8 frames are, with a
            straight-through gradient; then a uint8-valued video gets exactly ``viclip score``'s reward.
            ``False`` for a smooth function (``gradcheck``).
        autocast_dtype: e.g. ``torch.bfloat16``: the video tower under autocast on the frames' device.
        gradient_checkpointing: recompute the video tower's blocks in the backward pass (less memory).

    Example::

        reward = ViCLIPReward.from_pretrained("ViCLIP-L-14-10M-FLT").to("cuda")
        r = reward(videos, ["a cat surfing"] * len(videos), value_range=(-1, 1))  # videos: (B, T, C, H, W)
        (-r.mean()).backward()
    """

    def __init__(
        self,
        model: nn.Module,
        processor: Any,
        protocol: str = "viclip",
        quantize: bool = True,
        autocast_dtype: torch.dtype | None = None,
        gradient_checkpointing: bool = False,
    ):
        super().__init__()
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {', '.join(PROTOCOLS)}, got {protocol!r}")
        self.model = model.eval().requires_grad_(False)
        self.processor = processor
        self.protocol = protocol
        self.quantize = quantize
        self.autocast_dtype = autocast_dtype
        video_processor = processor.video_processor
        if protocol == "vbench":
            self.num_frames, self.size = NUM_FRAMES, IMAGE_SIZE
            mean, std = OPENAI_CLIP_MEAN, OPENAI_CLIP_STD
        else:
            self.num_frames, self.size = int(video_processor.num_frames), int(video_processor.size["height"])
            mean, std = video_processor.image_mean, video_processor.image_std
        self.register_buffer(
            "mean", torch.tensor(mean, dtype=torch.float32).view(1, 1, 3, 1, 1), persistent=False
        )
        self.register_buffer(
            "std", torch.tensor(std, dtype=torch.float32).view(1, 1, 3, 1, 1), persistent=False
        )
        self._text_cache: dict[str, torch.Tensor] = {}
        if gradient_checkpointing:
            self._checkpoint_video_blocks()
        self.train(False)

    @classmethod
    def from_pretrained(
        cls, name_or_path: str | os.PathLike, dtype: torch.dtype = torch.float32, **kwargs: Any
    ) -> ViCLIPReward:
        """The reward of a saved ViCLIP folder (or Hub id); ``kwargs`` go to the constructor."""
        from ..modeling import ViCLIPModel
        from ..processing import ViCLIPProcessor

        model = ViCLIPModel.from_pretrained(name_or_path, dtype=dtype)
        return cls(model, ViCLIPProcessor.from_pretrained(name_or_path), **kwargs)

    def _checkpoint_video_blocks(self) -> None:
        # transformers checkpoints a block only in training mode: the blocks alone are put in it, every module
        # inside them stays in eval mode (no dropout, no drop path) and the tower's masking stays off.
        self.model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
        self._checkpointed = list(self.model.vision_model.encoder.layers)

    def train(self, mode: bool = True) -> ViCLIPReward:
        super().train(mode)
        self.model.eval()  # the reward's model is always in eval mode
        for block in getattr(self, "_checkpointed", []):
            block.training = True
        return self

    def pixels(self, videos: torch.Tensor, value_range: tuple[float, float] = (0.0, 1.0)) -> torch.Tensor:
        """``(B, T, C, H, W)`` videos in ``value_range`` -> the model's ``pixel_values_videos`` (differentiable)."""
        if videos.ndim != 5 or videos.shape[2] != 3:
            raise ValueError(f"videos must be (batch, frames, 3, height, width), got {tuple(videos.shape)}")
        if not videos.is_floating_point():
            raise TypeError(f"videos must be a float tensor, got {videos.dtype}")
        low, high = value_range
        if not high > low:
            raise ValueError(f"value_range must be (low, high) with high > low, got {value_range}")
        batch, count = videos.shape[:2]
        if self.protocol == "vbench":
            indices = vbench_frame_indices(self.num_frames, count)
        else:
            indices = sample_frame_indices(count, self.num_frames, "middle")
        frames = (videos[:, indices] - low) * (255.0 / (high - low))
        frames = frames.flatten(0, 1)
        if self.protocol == "vbench":
            frames = _center_crop(_resize_short_side(frames, self.size), self.size)
        else:
            frames = F.interpolate(
                frames, size=(self.size, self.size), mode="bicubic", align_corners=False, antialias=False
            )
        if self.quantize:
            frames = _round_straight_through(frames)
        frames = frames.reshape(batch, self.num_frames, 3, self.size, self.size) / 255.0
        return (frames - self.mean.to(frames.dtype)) / self.std.to(frames.dtype)

    @torch.no_grad()
    def text_features(self, prompts: Sequence[str]) -> torch.Tensor:
        """``(len(prompts), dim)`` L2-normalised float32 prompt features, cached per prompt (no gradient)."""
        missing = [p for p in dict.fromkeys(prompts) if p not in self._text_cache]
        if missing:
            ids = self.processor(text=missing, return_tensors="pt")["input_ids"]
            ids = trim_after_end_of_text({"input_ids": ids})["input_ids"].to(self.mean.device)
            features = self.model.get_text_features(input_ids=ids).pooler_output
            for prompt, feature in zip(missing, F.normalize(features.float(), dim=-1)):
                self._text_cache[prompt] = feature
        return torch.stack([self._text_cache[p].to(self.mean.device) for p in prompts])

    def forward(
        self,
        videos: torch.Tensor,
        prompts: str | Sequence[str],
        value_range: tuple[float, float] = (0.0, 1.0),
    ) -> torch.Tensor:
        """``(B,)`` rewards of ``videos`` ``(B, T, C, H, W)`` for ``prompts`` (one, or one per video)."""
        prompts = [prompts] * len(videos) if isinstance(prompts, str) else list(prompts)
        if len(prompts) != len(videos):
            raise ValueError(f"{len(prompts)} prompts for {len(videos)} videos")
        if any(not isinstance(p, str) or not p.strip() for p in prompts):
            raise ValueError("every prompt must be a non-empty string")
        pixels = self.pixels(videos, value_range)
        model_dtype = next(self.model.parameters()).dtype
        with torch.autocast(
            pixels.device.type,
            dtype=self.autocast_dtype or torch.float32,
            enabled=self.autocast_dtype is not None,
        ):
            features = self.model.get_video_features(pixel_values_videos=pixels.to(model_dtype)).pooler_output
        video = F.normalize(features.to(pixels.dtype), dim=-1)
        return (video * self.text_features(prompts).to(video.dtype)).sum(dim=-1)
