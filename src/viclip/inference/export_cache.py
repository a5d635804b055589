"""The exported video towers of the CPU fast paths, cached on disk: one folder per runtime, model fingerprint and
frame shape, written atomically, reused by every later job and rebuilt when the model changes.

Used by :mod:`.openvino_tower` (``optimize="openvino"``) and :mod:`.onnx_int8_tower` (``optimize="onnx-int8"``).
The folder is ``$VICLIP_CACHE/<runtime>``, else ``$HF_HOME/viclip/<runtime>``
(``~/.cache/huggingface/viclip/<runtime>``); delete it to reclaim the space.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from ..errors import ViCLIPError
from .fingerprint import model_fingerprint

EXTRA_HINT = "pip install 'viclip[cpu]'"
CACHE_ENV = "VICLIP_CACHE"


class MissingRuntimeError(ViCLIPError, ImportError):
    """An optional inference runtime is not installed; the message names the extra that installs it."""


# The ``optimize`` choices that run the video tower on a CPU runtime of the ``cpu`` extra: the modules each needs
# and the runtime's name.
CPU_RUNTIMES = {
    "openvino": (("openvino",), "OpenVINO"),
    "onnx-int8": (("onnx", "onnxruntime"), "ONNX Runtime"),
}


def missing_runtime(optimize: str) -> str | None:
    """The one-line message when the runtime of ``optimize`` (a key of :data:`CPU_RUNTIMES`) is not installed,
    else None; imports nothing."""
    modules, name = CPU_RUNTIMES[optimize]
    if any(importlib.util.find_spec(module) is None for module in modules):
        return f"--optimize {optimize} needs {name}: {EXTRA_HINT}"
    return None


def require_runtime(optimize: str) -> None:
    """:class:`MissingRuntimeError` naming the extra when the runtime of ``optimize`` is not installed."""
    message = missing_runtime(optimize)
    if message is not None:
        raise MissingRuntimeError(message)


def cache_dir(runtime: str) -> Path:
    """Where ``runtime``'s exported towers are kept: ``$VICLIP_CACHE/<runtime>``, else
    ``$HF_HOME/viclip/<runtime>``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]) / runtime
    from huggingface_hub import constants

    return Path(constants.HF_HOME) / "viclip" / runtime


def cached_export(runtime: str, key: str, filename: str, export: Callable[[Path], None]) -> Path:
    """``cache_dir(runtime)/key/filename``, made by ``export(folder)`` (which writes ``filename`` and whatever
    it needs beside it into ``folder``) when not cached yet.

    The export is written into a temporary folder that is renamed into place, so a killed job leaves no
    half-written tower and two jobs exporting at once both end up with one whole copy."""
    folder = cache_dir(runtime) / key
    target = folder / filename
    if target.is_file():
        return target
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=folder.parent))
    try:
        export(staging)
        try:
            staging.rename(folder)  # atomic: a reader sees the whole folder or none
        except OSError:  # another job finished first: use its copy
            if not target.is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


class VideoTower(torch.nn.Module):
    """What is exported: pixels ``(B, T, C, H, W)`` -> the projected (not normalised) video embedding."""

    def __init__(self, model: Any):
        super().__init__()
        self.vision_model, self.visual_projection = model.vision_model, model.visual_projection

    def forward(self, pixel_values_videos: torch.Tensor) -> torch.Tensor:
        pooled = self.vision_model(pixel_values_videos=pixel_values_videos, return_dict=True).pooler_output
        return self.visual_projection(pooled)


class ExportedVision(torch.nn.Module):
    """Stands in for a model's ``vision_model`` (with the projection folded in) and runs an exported tower,
    returning ``pooler_output`` as the model's own ``get_video_features`` expects it. Each frame count and size
    gets its tower (from the cache) on first use; subclasses say how one is loaded (:meth:`load`)."""

    def __init__(self, tower: VideoTower, fingerprint: str, num_threads: int):
        super().__init__()
        self._source = [tower]  # a list: not registered as a submodule (its weights stay out of state_dict)
        self._fingerprint = fingerprint
        self.num_threads = num_threads
        self._loaded: dict[tuple[int, int], Callable[[Any], Any]] = {}

    @classmethod
    def install(cls, model: Any) -> Any:
        """``model`` (a ``ViCLIPModel`` on the CPU) with its video tower and projection replaced, in place, by an
        exported tower of this kind."""
        tower = VideoTower(model)  # the original modules, kept for export at new frame shapes
        model.vision_model = cls(tower, model_fingerprint(model), torch.get_num_threads())
        model.visual_projection = torch.nn.Identity()
        return model

    def load(
        self, tower: VideoTower, fingerprint: str, num_frames: int, image_size: int
    ) -> Callable[[Any], Any]:
        """A function float32 pixels ``(B, T, 3, S, S)`` (numpy) -> embeddings (numpy) for this shape."""
        raise NotImplementedError

    def forward(self, pixel_values_videos: torch.Tensor, **_: Any) -> Any:
        from transformers.modeling_outputs import BaseModelOutputWithPooling

        pixels = pixel_values_videos.detach().float().cpu()
        if pixels.dim() == 4:  # images: one-frame videos
            pixels = pixels.unsqueeze(1)
        shape = (pixels.shape[1], pixels.shape[-1])
        if shape not in self._loaded:
            self._loaded[shape] = self.load(self._source[0], self._fingerprint, *shape)
        features = self._loaded[shape](pixels.numpy())
        return BaseModelOutputWithPooling(pooler_output=torch.from_numpy(features.copy()))
