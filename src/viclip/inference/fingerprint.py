"""Cheap identities of a model: which weights and preprocessing made an embedding (to resume or refuse mixing)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch

_CONFIG_FILES = (
    "config.json",
    "processor_config.json",
    "preprocessor_config.json",
    "video_preprocessor_config.json",
)
_SAMPLES_PER_FILE = 64
_SAMPLE_BYTES = 4096


def model_fingerprint(model: torch.nn.Module, *extra: object) -> str:
    """A cheap identity for a model's weights: config, parameter names/shapes/dtypes and a strided sample
    of every tensor's values (plus any ``extra`` objects, e.g. the processor settings), hashed.

    Not a cryptographic digest of all weights: it changes when any tensor is changed broadly (another
    checkpoint, fine-tuning), which is what resuming needs, and costs milliseconds even for ViT-L.
    """
    digest = hashlib.sha256()
    config = getattr(model, "config", None)
    if config is not None and hasattr(config, "to_json_string"):
        digest.update(config.to_json_string(use_diff=False).encode())
    for name, tensor in model.state_dict().items():
        flat = tensor.detach().reshape(-1)
        step = max(1, flat.numel() // 4096)
        sample = flat[::step].float().cpu().contiguous()
        digest.update(f"{name}:{tuple(tensor.shape)}:{tensor.dtype}".encode())
        digest.update(sample.numpy().tobytes())
    for obj in extra:
        digest.update(json.dumps(obj, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:32]


def folder_fingerprint(folder: str | os.PathLike) -> str:
    """The identity of a saved model folder without loading it: its config and processor files, and the size
    and strided samples of every weight file."""
    folder = Path(folder)
    digest = hashlib.sha256()
    for name in _CONFIG_FILES:
        path = folder / name
        if path.is_file():
            digest.update(name.encode() + path.read_bytes())
    weights = sorted([*folder.glob("*.safetensors"), *folder.glob("*.bin")])
    if not weights:
        raise FileNotFoundError(f"{folder} holds no model weights (*.safetensors)")
    for path in weights:
        size = path.stat().st_size
        digest.update(f"{path.name}:{size}".encode())
        with open(path, "rb") as f:
            for i in range(_SAMPLES_PER_FILE):
                f.seek(size * i // _SAMPLES_PER_FILE)
                digest.update(f.read(_SAMPLE_BYTES))
    return digest.hexdigest()[:32]
