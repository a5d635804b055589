"""ViCLIP (InternVid, ICLR 2024) for the Hugging Face ecosystem.

Importing this package registers the ViCLIP classes with the transformers Auto classes (`AutoConfig`, `AutoModel`,
`AutoModelForVideoClassification`, `AutoVideoProcessor`, `AutoProcessor`) and the
"zero-shot-video-classification" pipeline, so `AutoModel.from_pretrained(folder)` and
`AutoProcessor.from_pretrained(folder)` work on a saved ViCLIP folder without `trust_remote_code`.
"""

from transformers import (
    AutoConfig,
    AutoModel,
    AutoModelForVideoClassification,
    AutoProcessor,
    AutoVideoProcessor,
)

from .conversion import ConversionError, convert_checkpoint
from .evaluation import pipeline as _zero_shot_pipeline  # noqa: F401  (registers the pipeline task)
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
    VideoDecodeError,
    clean_text,
    load_default_tokenizer,
    read_video_clip,
)

__version__ = "0.1.0"

AutoConfig.register(ViCLIPConfig.model_type, ViCLIPConfig, exist_ok=True)
AutoConfig.register(ViCLIPVisionConfig.model_type, ViCLIPVisionConfig, exist_ok=True)
AutoConfig.register(ViCLIPTextConfig.model_type, ViCLIPTextConfig, exist_ok=True)
AutoModel.register(ViCLIPConfig, ViCLIPModel, exist_ok=True)
AutoModel.register(ViCLIPVisionConfig, ViCLIPVisionModel, exist_ok=True)
AutoModel.register(ViCLIPTextConfig, ViCLIPTextModel, exist_ok=True)
AutoModelForVideoClassification.register(ViCLIPConfig, ViCLIPForVideoClassification, exist_ok=True)
AutoVideoProcessor.register(ViCLIPConfig, ViCLIPVideoProcessor, exist_ok=True)
AutoProcessor.register(ViCLIPConfig, ViCLIPProcessor, exist_ok=True)

__all__ = [
    "ClipInfo",
    "ClipRangeError",
    "ClipRangeWarning",
    "ConversionError",
    "StateDictMismatchError",
    "ViCLIPConfig",
    "ViCLIPForVideoClassification",
    "ViCLIPModel",
    "ViCLIPOutput",
    "ViCLIPPreTrainedModel",
    "ViCLIPProcessor",
    "ViCLIPTextConfig",
    "ViCLIPTextModel",
    "ViCLIPTextModelWithProjection",
    "ViCLIPVideoProcessor",
    "ViCLIPVisionConfig",
    "ViCLIPVisionModel",
    "ViCLIPVisionModelWithProjection",
    "VideoDecodeError",
    "clean_text",
    "convert_checkpoint",
    "convert_original_state_dict",
    "load_default_tokenizer",
    "read_video_clip",
    "to_original_state_dict",
]
