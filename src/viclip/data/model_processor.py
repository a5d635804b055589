"""The one carrier of frames, frame size and normalisation: a model's processor, built once from the model's config.

Training, fine-tuning, prepared shards and ``load_internvid`` take a processor or a model folder (never a parallel
``num_frames`` / ``image_size``); these functions turn either into the processor and check that a processor fits the
model it feeds.
"""

from __future__ import annotations

import os
from typing import Any

from ..processing import ViCLIPProcessor, ViCLIPVideoProcessor

ProcessorSource = ViCLIPProcessor | str | os.PathLike
"""A processor, or a model folder (or Hub id) whose processor to use."""

_SAVED_PROCESSOR_FILES = (
    "processor_config.json",
    "video_preprocessor_config.json",
    "preprocessor_config.json",
)


def default_processor(model_config: Any) -> ViCLIPProcessor:
    """The processor of a model that has none saved: its frame count and frame size (``vision_config``'s),
    the evaluation sampling and ImageNet normalisation, and the packaged CLIP tokenizer."""
    vision = getattr(model_config, "vision_config", model_config)
    return ViCLIPProcessor.for_model(vision.image_size, vision.num_frames)


def processor_frames(processor: ViCLIPProcessor | ViCLIPVideoProcessor) -> int:
    """Frames per clip that ``processor`` gives."""
    return int(getattr(processor, "video_processor", processor).num_frames)


def processor_size(processor: ViCLIPProcessor | ViCLIPVideoProcessor) -> tuple[int, int] | None:
    """``(height, width)`` of the frames ``processor`` gives, when its size names both."""
    size = getattr(processor, "video_processor", processor).size
    height, width = getattr(size, "height", None), getattr(size, "width", None)
    if isinstance(size, dict):
        height, width = size.get("height"), size.get("width")
    return (int(height), int(width)) if height and width else None


def check_processor_fits(processor: Any, model_config: Any, processor_name: str, model_name: str) -> None:
    """Raise a ValueError naming both when ``processor`` gives other frames (count or size) than the model's
    config was made for: the model would run on one count and the saved folder describe another."""
    vision = getattr(model_config, "vision_config", model_config)
    frames = processor_frames(processor)
    if frames != vision.num_frames:
        raise ValueError(
            f"{processor_name} gives {frames} frames per clip but {model_name} has {vision.num_frames} "
            "(vision_config.num_frames): use the model's processor, or a model made for that count"
        )
    size = processor_size(processor)
    if size is not None and size != (vision.image_size, vision.image_size):
        raise ValueError(
            f"{processor_name} gives {size[0]}x{size[1]} frames but {model_name} takes "
            f"{vision.image_size}x{vision.image_size} (vision_config.image_size)"
        )


def load_model_processor(name_or_path: str | os.PathLike, model_config: Any = None) -> ViCLIPProcessor:
    """The processor of a model folder or Hub id: the one saved there (checked against the model's config; a
    saved video processor without a tokenizer gets the packaged one), else :func:`default_processor`."""
    from ..modeling import ViCLIPConfig

    where = os.fspath(name_or_path)
    if model_config is None:
        model_config = ViCLIPConfig.from_pretrained(where)
    default = default_processor(model_config)
    if os.path.isdir(where) and not any(
        os.path.isfile(os.path.join(where, f)) for f in _SAVED_PROCESSOR_FILES
    ):
        return default
    try:
        processor = ViCLIPProcessor.from_pretrained(where)
    except (OSError, ValueError):
        try:
            video_processor = ViCLIPVideoProcessor.from_pretrained(where)
        except (OSError, ValueError):
            return default  # a Hub model without a processor
        processor = ViCLIPProcessor(video_processor=video_processor, tokenizer=default.tokenizer)
    check_processor_fits(processor, model_config, f"the processor saved in {where!r}", "its model")
    return processor


def resolve_processor(source: ProcessorSource | None) -> ViCLIPProcessor:
    """A processor as given, a model folder's (:func:`load_model_processor`), or for ``None`` the default
    ``ViCLIPProcessor()`` (8 frames of 224x224, the released models')."""
    if source is None:
        return ViCLIPProcessor()
    if isinstance(source, (str, os.PathLike)):
        return load_model_processor(source)
    return source
