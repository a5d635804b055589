# ruff: noqa: F401  (the TYPE_CHECKING imports exist for type checkers and IDEs)
"""ViCLIP (InternVid, ICLR 2024) for the Hugging Face ecosystem.

``import viclip`` registers viclip's classes with transformers: `AutoConfig`, `AutoModel`,
`AutoModelForVideoClassification`, `AutoVideoProcessor`, `AutoProcessor` and
``pipeline("zero-shot-video-classification")`` then work on a saved ViCLIP folder without ``trust_remote_code``.
It therefore imports torch and transformers (a few seconds); the ``viclip`` command line is the separate
``viclip_cli`` package, whose help answers without importing this one. The other names are imported on first use.
"""

from typing import TYPE_CHECKING

from . import _registration
from ._lazy import lazy_exports
from .errors import ViCLIPError
from .version import __version__

_EXPORTS: dict[str, str] = {
    "ConversionError": "conversion",
    "convert_checkpoint": "conversion",
    "StateDictMismatchError": "modeling",
    "ViCLIPConfig": "modeling",
    "ViCLIPForVideoClassification": "modeling",
    "ViCLIPModel": "modeling",
    "ViCLIPOutput": "modeling",
    "ViCLIPPreTrainedModel": "modeling",
    "ViCLIPTextConfig": "modeling",
    "ViCLIPTextModel": "modeling",
    "ViCLIPTextModelWithProjection": "modeling",
    "ViCLIPVisionConfig": "modeling",
    "ViCLIPVisionModel": "modeling",
    "ViCLIPVisionModelWithProjection": "modeling",
    "convert_original_state_dict": "modeling",
    "to_original_state_dict": "modeling",
    "ClipInfo": "processing",
    "ClipRangeError": "processing",
    "ClipRangeWarning": "processing",
    "VideoClip": "processing",
    "VideoDecodeError": "processing",
    "ViCLIPProcessor": "processing",
    "ViCLIPVideoProcessor": "processing",
    "clean_text": "processing",
    "load_default_tokenizer": "processing",
    "read_video_clip": "processing",
}

__all__ = sorted([*_EXPORTS, "ViCLIPError"])

if TYPE_CHECKING:
    from .conversion import ConversionError, convert_checkpoint
    from .modeling import (
        StateDictMismatchError,
        ViCLIPConfig,
        ViCLIPForVideoClassification,
        ViCLIPModel,
        ViCLIPOutput,
        ViCLIPPreTrainedModel,
        ViCLIPTextConfig,
        ViCLIPTextModel,
        ViCLIPTextModelWithProjection,
        ViCLIPVisionConfig,
        ViCLIPVisionModel,
        ViCLIPVisionModelWithProjection,
        convert_original_state_dict,
        to_original_state_dict,
    )
    from .processing import (
        ClipInfo,
        ClipRangeError,
        ClipRangeWarning,
        ViCLIPProcessor,
        ViCLIPVideoProcessor,
        VideoClip,
        VideoDecodeError,
        clean_text,
        load_default_tokenizer,
        read_video_clip,
    )

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

_registration.register_with_transformers()
