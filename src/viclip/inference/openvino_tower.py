"""The video tower on OpenVINO (``optimize="openvino"``): a float32 fast path for CPUs without native bf16.

On a CPU without AMX or AVX512-BF16 (AVX2 servers and laptops, AMD or Intel) bf16 is emulated and slower than
float32; OpenVINO's CPU plugin runs the same float32 graph with its own fused kernels (docs/cpu.md has the
figures and the CPU kinds they were taken on). The tower (video encoder and projection) is converted once per
model and input shape and cached as OpenVINO IR under :func:`cache_dir`, keyed by the weights' fingerprint:
a second job loads it, another model (or changed weights) gets its own.

OpenVINO is the ``cpu`` extra (``pip install 'viclip[cpu]'``), never a core dependency.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import torch
from transformers.modeling_outputs import BaseModelOutputWithPooling

from ..errors import ViCLIPError
from .fingerprint import model_fingerprint

EXTRA_HINT = "pip install 'viclip[cpu]'"
CACHE_ENV = "VICLIP_CACHE"


class MissingRuntimeError(ViCLIPError, ImportError):
    """An optional inference runtime is not installed; the message names the extra that installs it."""


def require_openvino() -> Any:
    """The ``openvino`` module, or :class:`MissingRuntimeError` naming the extra to install."""
    try:
        import openvino
    except ImportError:
        raise MissingRuntimeError(f"--optimize openvino needs OpenVINO: {EXTRA_HINT}") from None
    return openvino


def cache_dir() -> Path:
    """Where converted towers are kept: ``$VICLIP_CACHE/openvino``, else ``$HF_HOME/viclip/openvino``
    (``~/.cache/huggingface/viclip/openvino``)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]) / "openvino"
    from huggingface_hub import constants

    return Path(constants.HF_HOME) / "viclip" / "openvino"


class _Tower(torch.nn.Module):
    """What is exported: pixels ``(B, T, C, H, W)`` -> the projected (not normalised) video embedding."""

    def __init__(self, model: Any):
        super().__init__()
        self.vision_model, self.visual_projection = model.vision_model, model.visual_projection

    def forward(self, pixel_values_videos: torch.Tensor) -> torch.Tensor:
        pooled = self.vision_model(pixel_values_videos=pixel_values_videos, return_dict=True).pooler_output
        return self.visual_projection(pooled)


def converted_tower(model: Any, *, num_frames: int, image_size: int, fingerprint: str | None = None) -> Path:
    """The cached IR (``.xml``) of ``model``'s video tower for ``num_frames`` x ``image_size`` frames and any
    batch size, converted (and written atomically) when not cached yet. ``fingerprint``: the weights'
    :func:`~viclip.inference.fingerprint.model_fingerprint`, when already known."""
    ov = require_openvino()
    key = f"{fingerprint or model_fingerprint(model)}-{num_frames}x{image_size}-ov{ov.__version__.split('-')[0]}"
    folder = cache_dir() / key
    xml = folder / "tower.xml"
    if xml.is_file():
        return xml
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=folder.parent))
    try:
        tower = _Tower(model).float().eval()
        example = torch.zeros(1, num_frames, 3, image_size, image_size)
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", torch.jit.TracerWarning)  # shape checks, constant for this shape
            warnings.simplefilter("ignore", FutureWarning)  # the tracer's own deprecations (OpenVINO traces)
            converted = ov.convert_model(tower, example_input=example)
        converted.reshape(ov.PartialShape([-1, num_frames, 3, image_size, image_size]))
        ov.save_model(converted, staging / "tower.xml", compress_to_fp16=False)
        try:
            staging.rename(folder)  # atomic: a reader sees the whole folder or none
        except OSError:  # another job finished first: use its copy
            if not xml.is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return xml


class OpenVINOVision(torch.nn.Module):
    """Stands in for a model's ``vision_model`` (with the projection folded in): float32 on OpenVINO's CPU
    plugin, returning ``pooler_output`` as the model's own ``get_video_features`` expects it. Each frame count
    and size gets its converted tower (from the cache) on first use."""

    def __init__(self, tower: _Tower, fingerprint: str, num_threads: int):
        super().__init__()
        self._source = [tower]  # a list: not registered as a submodule (its weights stay out of state_dict)
        self._fingerprint = fingerprint
        self.num_threads = num_threads
        self._compiled: dict[tuple[int, int], Any] = {}

    def _for_shape(self, num_frames: int, image_size: int) -> Any:
        if (num_frames, image_size) not in self._compiled:
            ov = require_openvino()
            xml = converted_tower(
                self._source[0], num_frames=num_frames, image_size=image_size, fingerprint=self._fingerprint
            )
            config = {
                "INFERENCE_NUM_THREADS": self.num_threads,
                "PERFORMANCE_HINT": "LATENCY",
                "INFERENCE_PRECISION_HINT": "f32",  # never bf16 behind the user's back (AMX CPUs default to it)
            }
            self._compiled[num_frames, image_size] = ov.Core().compile_model(str(xml), "CPU", config)
        return self._compiled[num_frames, image_size]

    def forward(self, pixel_values_videos: torch.Tensor, **_: Any) -> BaseModelOutputWithPooling:
        pixels = pixel_values_videos.detach().float().cpu()
        if pixels.dim() == 4:  # images: one-frame videos
            pixels = pixels.unsqueeze(1)
        compiled = self._for_shape(pixels.shape[1], pixels.shape[-1])
        features = compiled(pixels.numpy())[0]
        return BaseModelOutputWithPooling(pooler_output=torch.from_numpy(features.copy()))


def use_openvino(model: Any) -> Any:
    """``model`` (a ``ViCLIPModel`` on the CPU) with its video tower on OpenVINO, float32, converted once per
    weights and frame shape (cached under :func:`cache_dir`)."""
    require_openvino()
    tower = _Tower(model)  # the original modules, kept for conversion to new frame shapes
    model.vision_model = OpenVINOVision(tower, model_fingerprint(model), torch.get_num_threads())
    model.visual_projection = torch.nn.Identity()
    return model
