"""The video tower in int8 on ONNX Runtime (``optimize="onnx-int8"``): the fast path for CPUs without native bf16.

The tower (video encoder and projection) is exported to ONNX and its linear layers and patch embedding quantized
by ONNX Runtime's dynamic quantization (``onnxruntime.quantization.quantize_dynamic``): int8 weights, one scale
per output channel, activations quantized per call, one clip at a time; attention's matrix products, LayerNorms,
softmax, the first encoder block and the projection (one token) stay float32 (:data:`FLOAT32_LAYERS`). Before
export, each LayerNorm's per-channel scale is moved into the linear layers it feeds (exact in float:
SmoothQuant's migration, data-free, as RepQ-ViT does for post-LayerNorm activations): trained ViTs have a few
LayerNorm channels far wider than the rest, and one int8 range per call cannot serve both. The weights are signed
int8 on a CPU with VNNI and unsigned elsewhere (ORT's U8S8 and U8U8 kernels): without VNNI, U8S8 goes through
``vpmaddubsw``, whose 16-bit sums can saturate, so the embedding would depend on the CPU kind; with VNNI U8S8 is
exact and faster.

The quantized tower is made once per model fingerprint and frame shape and cached (:mod:`.export_cache`): a second
job loads it, another model gets its own. ONNX and ONNX Runtime are the ``cpu`` extra (``pip install
'viclip[cpu]'``), never core dependencies. docs/cpu.md has the figures and the CPU kinds they were taken on.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .dtype_choice import cpu_has_vnni
from .export_cache import ExportedVision, VideoTower, cached_export, require_runtime
from .fingerprint import model_fingerprint

# Nodes left in float32 (by a substring of the exported node name): the first encoder block, whose int8 error the
# 23 blocks after it amplify (L/14 with outlier channels: cosine 0.9979 with it in int8, 0.9999 without; it is
# 1/24 of the work), and the projection of the pooled token.
FLOAT32_LAYERS = ("/encoder/layers.0/", "/visual_projection/")
# A channel's range after LayerNorm: |weight| * NORMALISED_RANGE + |bias| (normalised values rarely
# pass 3 standard deviations).
NORMALISED_RANGE = 3.0
RECIPE = "smoothed-per-channel-v2"  # part of the cache key: a changed recipe is a new tower


def require_onnxruntime() -> Any:
    """The ``onnxruntime`` module (with ``onnx``), or :class:`MissingRuntimeError` naming the extra to install."""
    require_runtime("onnx-int8")  # onnx too: the export and the quantizer need it
    import onnxruntime

    return onnxruntime


@contextlib.contextmanager
def _quiet_root_logger() -> Iterator[None]:
    """ORT's quantizer logs advice through the root logger (configuring it on the way when it has no
    handler): keep that out of the user's terminal and leave the root logger as it was."""
    root = logging.getLogger()
    handler = logging.NullHandler()

    def errors_only(record: logging.LogRecord) -> bool:
        return record.levelno >= logging.ERROR

    root.addHandler(handler)
    root.addFilter(errors_only)
    try:
        yield
    finally:
        root.removeFilter(errors_only)
        root.removeHandler(handler)


@torch.no_grad()
def smoothed(tower: VideoTower) -> VideoTower:
    """A copy of ``tower`` computing the same function, each encoder layer's LayerNorm scaled down per channel by
    ``s`` and the linear layers it feeds scaled up by ``s`` on their input: ``s = sqrt(range / max |weight|)``
    per channel (SmoothQuant's migration strength 0.5), so that LayerNorm outputs and weights share the range."""
    tower = copy.deepcopy(tower).float()
    for layer in tower.vision_model.encoder.layers:
        attention = layer.self_attn
        for norm, linears in (
            (layer.layer_norm1, (attention.q_proj, attention.k_proj, attention.v_proj)),
            (layer.layer_norm2, (layer.mlp.fc1,)),
        ):
            activation = norm.weight.abs() * NORMALISED_RANGE + norm.bias.abs()
            weight = torch.stack([linear.weight.abs().amax(dim=0) for linear in linears]).amax(dim=0)
            scale = (activation.clamp(min=1e-5) / weight.clamp(min=1e-5)).sqrt()
            norm.weight.div_(scale)
            norm.bias.div_(scale)
            for linear in linears:
                linear.weight.mul_(scale)
    return tower


def quantized_tower(model: Any, *, num_frames: int, image_size: int, fingerprint: str | None = None) -> Path:
    """The cached int8 ONNX file of ``model``'s video tower for ``num_frames`` x ``image_size`` frames and any
    batch size, exported and quantized when not cached yet. ``fingerprint``: the weights'
    :func:`~viclip.inference.fingerprint.model_fingerprint`, when already known."""
    ort = require_onnxruntime()
    from onnxruntime.quantization import QuantType, quantize_dynamic

    signed = cpu_has_vnni()  # U8S8 is exact (and faster) only with VNNI; else U8U8, which cannot saturate
    recipe = f"{RECIPE}-{'u8s8' if signed else 'u8u8'}"
    key = f"{fingerprint or model_fingerprint(model)}-{num_frames}x{image_size}-ort{ort.__version__}-{recipe}"

    def export(folder: Path) -> None:
        import onnx

        float32 = folder / "float32.onnx"
        tower = smoothed(VideoTower(model)).eval()  # a float32 copy: the model itself is left as it is
        example = torch.zeros(1, num_frames, 3, image_size, image_size)
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracer's shape checks (constant here), deprecations
            torch.onnx.export(
                tower,
                (example,),
                str(float32),
                input_names=["pixel_values_videos"],
                output_names=["video_embeds"],
                dynamic_axes={"pixel_values_videos": {0: "batch"}, "video_embeds": {0: "batch"}},
                opset_version=17,
                dynamo=False,  # the TorchScript exporter: no onnxscript needed
            )
        names = [node.name for node in onnx.load(str(float32), load_external_data=False).graph.node]
        keep = [name for name in names if any(part in name for part in FLOAT32_LAYERS)]
        with _quiet_root_logger():
            quantize_dynamic(
                float32,
                folder / "tower.onnx",
                per_channel=True,
                weight_type=QuantType.QInt8 if signed else QuantType.QUInt8,
                nodes_to_exclude=keep,
            )
        float32.unlink()

    return cached_export("onnx-int8", key, "tower.onnx", export)


class OnnxInt8Vision(ExportedVision):
    """The video tower in int8 on ONNX Runtime's CPU provider, in place of a model's ``vision_model``."""

    def load(self, tower: VideoTower, fingerprint: str, num_frames: int, image_size: int) -> Any:
        ort = require_onnxruntime()
        path = quantized_tower(tower, num_frames=num_frames, image_size=image_size, fingerprint=fingerprint)
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.num_threads
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

        def run(pixels: Any) -> Any:
            # One clip per call: activations are quantized with one range per call, so a batch would make
            # each clip's embedding depend on its batch-mates (on a CPU a clip's ~1.6k tokens fill the cores).
            clips = [
                session.run(None, {"pixel_values_videos": pixels[i : i + 1]})[0] for i in range(len(pixels))
            ]
            return np.concatenate(clips)

        return run


def use_onnx_int8(model: Any) -> Any:
    """``model`` (a ``ViCLIPModel`` on the CPU) with its video tower in int8 on ONNX Runtime, quantized once per
    weights and frame shape (cached under :func:`~.export_cache.cache_dir`)."""
    require_onnxruntime()
    return OnnxInt8Vision.install(model)
