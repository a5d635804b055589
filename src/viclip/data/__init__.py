# ruff: noqa: F401  (the TYPE_CHECKING imports exist for type checkers and IDEs)
"""InternVid data: annotations, video lookup, the ``datasets`` pipeline, synthetic data and the downloader.

Names are imported lazily, so ``viclip synthetic`` does not pay for importing ``datasets``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "AnnotationFilter": "annotations",
    "ClipAnnotation": "annotations",
    "SkipReason": "annotations",
    "format_timestamp": "annotations",
    "parse_row": "annotations",
    "parse_timestamp": "annotations",
    "CaptionedVideos": "video_list",
    "LabelledVideo": "video_list",
    "list_videos": "video_list",
    "read_captioned_videos": "video_list",
    "read_labelled_videos": "video_list",
    "VideoLocator": "video_locator",
    "clip_filename": "video_locator",
    "SkipStats": "stats",
    "ViCLIPExampleTransform": "transform",
    "internvid_collate": "internvid",
    "load_internvid": "internvid",
    "load_clips": "internvid",
    "read_caption_rows": "caption_list",
    "SyntheticDataset": "synthetic",
    "caption_for": "synthetic",
    "generate_synthetic_internvid": "synthetic",
    "DownloadReport": "download",
    "PrepareReport": "prepare",
    "prepare_internvid": "prepare",
    "load_prepared": "prepared",
    "push_prepared": "prepared",
    "download_internvid": "download",
    "FolderInUseError": "run_lock",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from .annotations import (
        AnnotationFilter,
        ClipAnnotation,
        SkipReason,
        format_timestamp,
        parse_row,
        parse_timestamp,
    )
    from .caption_list import read_caption_rows
    from .download import DownloadReport, download_internvid
    from .internvid import internvid_collate, load_clips, load_internvid
    from .prepare import PrepareReport, prepare_internvid
    from .prepared import load_prepared, push_prepared
    from .run_lock import FolderInUseError
    from .stats import SkipStats
    from .synthetic import SyntheticDataset, caption_for, generate_synthetic_internvid
    from .transform import ViCLIPExampleTransform
    from .video_list import (
        CaptionedVideos,
        LabelledVideo,
        list_videos,
        read_captioned_videos,
        read_labelled_videos,
    )
    from .video_locator import VideoLocator, clip_filename


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
