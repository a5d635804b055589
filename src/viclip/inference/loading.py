"""Model loading for every job that runs a model: what a folder or Hub id holds, an embedder for it, and the
``ModelSpec`` that a Ray worker loads its model from."""

from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .embedder import Embedder, VideoTextEmbedder
from .image_clip import ImageCLIPEmbedder, paper_video_processor


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


def load_embedder(
    name_or_path: str | os.PathLike,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
) -> Embedder:
    """An embedder with the paper's evaluation transform: a ViCLIP folder/Hub id -> :class:`VideoTextEmbedder`
    (the folder's tokenizer, always the paper's frames and transform: a folder may carry the demo's); a CLIP one
    (``model_type`` "clip") -> :class:`ImageCLIPEmbedder`. Anything else is an error."""
    model_type, _ = read_model_config(name_or_path)
    if model_type == "clip":
        return ImageCLIPEmbedder.from_pretrained(name_or_path, device=device, dtype=dtype)
    if model_type != "viclip":
        raise ValueError(
            f"{str(name_or_path)!r} is a {model_type!r} model; expected ViCLIP (model_type 'viclip') or an image "
            "CLIP (model_type 'clip')"
        )
    from ..modeling import ViCLIPModel
    from ..processing import ViCLIPProcessor

    model = ViCLIPModel.from_pretrained(name_or_path, dtype=dtype).to(device)
    saved = ViCLIPProcessor.from_pretrained(name_or_path)
    vision = model.config.vision_config
    processor = ViCLIPProcessor(
        video_processor=paper_video_processor(vision.image_size, vision.num_frames), tokenizer=saved.tokenizer
    )
    return VideoTextEmbedder(model, processor)


@dataclass
class ModelSpec:
    """How a worker gets the model: a local folder, or an in-memory model (shipped by pickling)."""

    name: str
    revision: str
    fingerprint: str
    folder: str | None = None
    model: Any = None

    def load(self, dtype: torch.dtype, device: torch.device | str = "cpu") -> torch.nn.Module:
        """The ViCLIP model in ``dtype`` on ``device``, in eval mode. An in-memory model is used as it is when it
        already is all that, else copied: the caller's model is never cast, moved or switched to eval."""
        if self.model is not None:
            model = self.model
            first = next(model.parameters())
            wanted = torch.device(device)
            same_device = first.device.type == wanted.type and wanted.index in (None, first.device.index)
            if model.training or first.dtype != dtype or not same_device:
                model = copy.deepcopy(model)
        else:
            from ..modeling import ViCLIPModel

            model = ViCLIPModel.from_pretrained(self.folder, dtype=dtype)
        return model.to(device=device, dtype=dtype).eval()

    def projection_dim(self) -> int:
        if self.model is not None:
            return int(self.model.config.projection_dim)
        from ..modeling import ViCLIPConfig

        return int(ViCLIPConfig.from_pretrained(self.folder).projection_dim)

    def weights_bytes(self) -> int:
        if self.model is not None:
            return sum(t.numel() * t.element_size() for t in self.model.state_dict().values())
        return sum(p.stat().st_size for p in Path(self.folder).glob("*.safetensors"))


def resolve_model(model: Any, processor: Any = None) -> tuple[ModelSpec, Any]:
    """``(ModelSpec, processor)`` for a folder, a Hub id (downloaded once, named by its commit) or an in-memory
    ``ViCLIPModel`` (then ``processor`` is required); the processor is the folder's unless one is given."""
    from .fingerprint import folder_fingerprint, model_fingerprint

    if isinstance(model, (str, os.PathLike)):
        folder = Path(model)
        revision = "local"
        if not folder.is_dir():
            from huggingface_hub import snapshot_download

            folder = Path(snapshot_download(str(model)))
            revision = folder.name  # the snapshot folder is named by the commit hash
        if processor is None:
            from ..processing import ViCLIPProcessor

            processor = ViCLIPProcessor.from_pretrained(folder)
        return ModelSpec(str(model), revision, folder_fingerprint(folder), folder=str(folder)), processor
    if processor is None:
        raise ValueError("an in-memory model needs its processor: pass processor=processor")
    video_processor = getattr(processor, "video_processor", processor)
    name = getattr(model, "name_or_path", "") or type(model).__name__
    spec = ModelSpec(name, "in-memory", model_fingerprint(model, video_processor.to_dict()), model=model)
    return spec, processor
