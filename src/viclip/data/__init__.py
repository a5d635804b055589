"""InternVid data: annotations, video lookup, the ``datasets`` pipeline, synthetic data and the downloader.

Names are imported lazily, so ``viclip synthetic`` does not pay for importing ``datasets``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    "AnnotationFilter": "annotations",
    "ClipAnnotation": "annotations",
    "SkipReason": "annotations",
    "format_timestamp": "annotations",
    "parse_row": "annotations",
    "parse_timestamp": "annotations",
    "VideoIndex": "video_index",
    "VideoLocation": "video_index",
    "clip_filename": "video_index",
    "SkipStats": "stats",
    "ViCLIPExampleTransform": "transform",
    "internvid_collate": "internvid",
    "load_internvid": "internvid",
    "SyntheticDataset": "synthetic",
    "caption_for": "synthetic",
    "generate_synthetic_internvid": "synthetic",
    "DownloadReport": "download",
    "download_internvid": "download",
}

__all__ = [
    "AnnotationFilter",
    "ClipAnnotation",
    "DownloadReport",
    "SkipReason",
    "SkipStats",
    "SyntheticDataset",
    "ViCLIPExampleTransform",
    "VideoIndex",
    "VideoLocation",
    "caption_for",
    "clip_filename",
    "download_internvid",
    "format_timestamp",
    "generate_synthetic_internvid",
    "internvid_collate",
    "load_internvid",
    "parse_row",
    "parse_timestamp",
]

if TYPE_CHECKING:
    from .annotations import (
        AnnotationFilter,
        ClipAnnotation,
        SkipReason,
        format_timestamp,
        parse_row,
        parse_timestamp,
    )
    from .download import DownloadReport, download_internvid
    from .internvid import internvid_collate, load_internvid
    from .stats import SkipStats
    from .synthetic import SyntheticDataset, caption_for, generate_synthetic_internvid
    from .transform import ViCLIPExampleTransform
    from .video_index import VideoIndex, VideoLocation, clip_filename


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'viclip.data' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
