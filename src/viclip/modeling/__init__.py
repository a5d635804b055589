"""ViCLIP configuration, model classes and the mapping from the original checkpoints (registered with the
transformers Auto classes by ``import viclip``)."""

from .configuration_viclip import ViCLIPConfig, ViCLIPTextConfig, ViCLIPVisionConfig
from .modeling_viclip import (
    ViCLIPForVideoClassification,
    ViCLIPModel,
    ViCLIPOutput,
    ViCLIPPreTrainedModel,
    ViCLIPTextModel,
    ViCLIPTextModelWithProjection,
    ViCLIPVisionModel,
    ViCLIPVisionModelWithProjection,
)
from .original_state_dict import (
    StateDictMismatchError,
    convert_original_state_dict,
    expected_model_shapes,
    to_original_state_dict,
)

__all__ = [
    "StateDictMismatchError",
    "ViCLIPConfig",
    "ViCLIPForVideoClassification",
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
    "expected_model_shapes",
    "to_original_state_dict",
]
