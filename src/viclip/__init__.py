"""ViCLIP (InternVid, ICLR 2024) for the Hugging Face ecosystem.

Importing this package registers the ViCLIP classes with the transformers Auto classes, so
``AutoModel.from_pretrained(folder)`` and ``AutoProcessor.from_pretrained(folder)`` work on
a saved ViCLIP folder without ``trust_remote_code``.
"""

__version__ = "0.1.0"

# --- modeling (issue 2) ---
from transformers import AutoConfig, AutoModel

from .modeling import (
    StateDictMismatchError,
    ViCLIPConfig,
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

__all__ = [
    "StateDictMismatchError",
    "ViCLIPConfig",
    "ViCLIPModel",
    "ViCLIPOutput",
    "ViCLIPPreTrainedModel",
    "ViCLIPTextConfig",
    "ViCLIPTextModel",
    "ViCLIPTextModelWithProjection",
    "ViCLIPVisionConfig",
    "ViCLIPVisionModel",
    "ViCLIPVisionModelWithProjection",
    "convert_original_state_dict",
    "to_original_state_dict",
]

AutoConfig.register(ViCLIPConfig.model_type, ViCLIPConfig, exist_ok=True)
AutoConfig.register(ViCLIPVisionConfig.model_type, ViCLIPVisionConfig, exist_ok=True)
AutoConfig.register(ViCLIPTextConfig.model_type, ViCLIPTextConfig, exist_ok=True)
AutoModel.register(ViCLIPConfig, ViCLIPModel, exist_ok=True)
AutoModel.register(ViCLIPVisionConfig, ViCLIPVisionModel, exist_ok=True)
AutoModel.register(ViCLIPTextConfig, ViCLIPTextModel, exist_ok=True)
# --- end modeling ---

# --- processing (issue 3) ---
from transformers import AutoProcessor, AutoVideoProcessor

from .processing import (
    ClipInfo,
    ClipRangeError,
    ClipRangeWarning,
    ViCLIPProcessor,
    ViCLIPVideoProcessor,
    VideoDecodeError,
    clean_text,
    load_default_tokenizer,
    read_video_clip,
)

AutoVideoProcessor.register(ViCLIPConfig, ViCLIPVideoProcessor, exist_ok=True)
AutoProcessor.register(ViCLIPConfig, ViCLIPProcessor, exist_ok=True)
__all__ += [
    "ClipInfo",
    "ClipRangeError",
    "ClipRangeWarning",
    "ViCLIPProcessor",
    "ViCLIPVideoProcessor",
    "VideoDecodeError",
    "clean_text",
    "load_default_tokenizer",
    "read_video_clip",
]
# --- end processing ---

# --- evaluation (issue 7) ---
from .evaluation import pipeline as _zero_shot_video_pipeline  # registers "zero-shot-video-classification"

# --- end evaluation ---

# --- conversion (issue 4) ---
from .conversion import ConversionError, convert_checkpoint  # noqa: E402

__all__ += ["ConversionError", "convert_checkpoint"]
# --- end conversion ---

# --- classification (issue 8) ---
# --- end classification ---
