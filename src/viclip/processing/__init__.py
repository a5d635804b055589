# ruff: noqa: F401  (the TYPE_CHECKING imports exist for type checkers and IDEs)
"""Processing for ViCLIP: the clip type, clip reading with PyAV, text cleaning, the video processor and the processor.

Names are imported lazily (``import viclip`` itself imports the processors, to register them with transformers).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "VIDEO_EXTENSIONS": "video_clip",
    "VideoClip": "video_clip",
    "SAMPLING_STRATEGIES": "video_reading",
    "ClipInfo": "video_reading",
    "ClipRangeError": "video_reading",
    "ClipRangeWarning": "video_reading",
    "VideoDecodeError": "video_reading",
    "VideoDecodeTimeout": "video_reading",
    "read_video_clip": "video_reading",
    "sample_frame_indices": "video_reading",
    "clean_caption": "text_cleaning",
    "clean_text": "text_cleaning",
    "ViCLIPVideoProcessor": "video_processing_viclip",
    "CONTEXT_LENGTH": "processing_viclip",
    "ViCLIPProcessor": "processing_viclip",
    "load_default_tokenizer": "processing_viclip",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from .processing_viclip import CONTEXT_LENGTH, ViCLIPProcessor, load_default_tokenizer
    from .text_cleaning import clean_caption, clean_text
    from .video_clip import VIDEO_EXTENSIONS, VideoClip
    from .video_processing_viclip import ViCLIPVideoProcessor
    from .video_reading import (
        SAMPLING_STRATEGIES,
        ClipInfo,
        ClipRangeError,
        ClipRangeWarning,
        VideoDecodeError,
        VideoDecodeTimeout,
        read_video_clip,
        sample_frame_indices,
    )


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
