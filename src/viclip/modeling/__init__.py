"""ViCLIP configuration, model classes and the mapping from the original checkpoints.

Importing this package registers the configurations and models with `AutoConfig`, `AutoModel` and
`AutoModelForVideoClassification` (see `register_auto_classes`).
"""

from transformers import AutoConfig, AutoModel, AutoModelForVideoClassification

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


def register_auto_classes() -> None:
    """Registers ViCLIP's configurations and models with the transformers Auto classes (idempotent)."""
    for config_class in (ViCLIPConfig, ViCLIPVisionConfig, ViCLIPTextConfig):
        AutoConfig.register(config_class.model_type, config_class, exist_ok=True)
    AutoModel.register(ViCLIPConfig, ViCLIPModel, exist_ok=True)
    AutoModel.register(ViCLIPVisionConfig, ViCLIPVisionModel, exist_ok=True)
    AutoModel.register(ViCLIPTextConfig, ViCLIPTextModel, exist_ok=True)
    AutoModelForVideoClassification.register(ViCLIPConfig, ViCLIPForVideoClassification, exist_ok=True)


register_auto_classes()

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
    "register_auto_classes",
    "to_original_state_dict",
]
