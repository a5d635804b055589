"""Processing for ViCLIP: clip reading with PyAV, text cleaning, the video processor and the processor."""

from .processing_viclip import CONTEXT_LENGTH, ViCLIPProcessor, load_default_tokenizer
from .text_cleaning import clean_caption, clean_text
from .video_processing_viclip import ViCLIPVideoProcessor
from .video_reading import (
    SAMPLING_STRATEGIES,
    ClipInfo,
    ClipRangeError,
    ClipRangeWarning,
    VideoDecodeError,
    read_video_clip,
    sample_frame_indices,
)

__all__ = [
    "CONTEXT_LENGTH",
    "SAMPLING_STRATEGIES",
    "ClipInfo",
    "ClipRangeError",
    "ClipRangeWarning",
    "ViCLIPProcessor",
    "ViCLIPVideoProcessor",
    "VideoDecodeError",
    "clean_caption",
    "clean_text",
    "load_default_tokenizer",
    "read_video_clip",
    "sample_frame_indices",
]
