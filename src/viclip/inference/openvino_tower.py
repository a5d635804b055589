"""The video tower on OpenVINO (``optimize="openvino"``): a float32 fast path for CPUs without native bf16.

On a CPU without AMX or AVX512-BF16 (AVX2 servers and laptops, AMD or Intel) bf16 is emulated and slower than
float32; OpenVINO's CPU plugin runs the same float32 graph with its own fused kernels (docs/cpu.md has the
figures and the CPU kinds they were taken on). The tower (video encoder and projection) is converted once per
model and input shape and cached as OpenVINO IR (:mod:`.export_cache`), keyed by the weights' fingerprint:
a second job loads it, another model (or changed weights) gets its own.

OpenVINO is the ``cpu`` extra (``pip install 'viclip[cpu]'``), never a core dependency.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import torch

from .export_cache import ExportedVision, MissingRuntimeError, VideoTower, cached_export, require_runtime
from .fingerprint import model_fingerprint

__all__ = ["MissingRuntimeError", "OpenVINOVision", "converted_tower", "require_openvino", "use_openvino"]


def require_openvino() -> Any:
    """The ``openvino`` module, or :class:`MissingRuntimeError` naming the extra to install."""
    require_runtime("openvino")
    import openvino

    return openvino


def converted_tower(model: Any, *, num_frames: int, image_size: int, fingerprint: str | None = None) -> Path:
    """The cached IR (``.xml``) of ``model``'s video tower for ``num_frames`` x ``image_size`` frames and any
    batch size, converted when not cached yet. ``fingerprint``: the weights'
    :func:`~viclip.inference.fingerprint.model_fingerprint`, when already known."""
    ov = require_openvino()
    key = f"{fingerprint or model_fingerprint(model)}-{num_frames}x{image_size}-ov{ov.__version__.split('-')[0]}"

    def convert(folder: Path) -> None:
        tower = VideoTower(model).float().eval()
        example = torch.zeros(1, num_frames, 3, image_size, image_size)
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", torch.jit.TracerWarning)  # shape checks, constant for this shape
            warnings.simplefilter("ignore", FutureWarning)  # the tracer's own deprecations (OpenVINO traces)
            converted = ov.convert_model(tower, example_input=example)
        converted.reshape(ov.PartialShape([-1, num_frames, 3, image_size, image_size]))
        ov.save_model(converted, folder / "tower.xml", compress_to_fp16=False)

    return cached_export("openvino", key, "tower.xml", convert)


class OpenVINOVision(ExportedVision):
    """The video tower in float32 on OpenVINO's CPU plugin, in place of a model's ``vision_model``."""

    def load(self, tower: VideoTower, fingerprint: str, num_frames: int, image_size: int) -> Any:
        ov = require_openvino()
        xml = converted_tower(tower, num_frames=num_frames, image_size=image_size, fingerprint=fingerprint)
        config = {
            "INFERENCE_NUM_THREADS": self.num_threads,
            "PERFORMANCE_HINT": "LATENCY",
            "INFERENCE_PRECISION_HINT": "f32",  # never bf16 behind the user's back (AMX CPUs default to it)
        }
        compiled = ov.Core().compile_model(str(xml), "CPU", config)
        return lambda pixels: compiled(pixels)[0]


def use_openvino(model: Any) -> Any:
    """``model`` (a ``ViCLIPModel`` on the CPU) with its video tower on OpenVINO, float32, converted once per
    weights and frame shape (cached under :func:`~.export_cache.cache_dir`)."""
    require_openvino()
    return OpenVINOVision.install(model)
