"""Training ViCLIP: the contrastive recipe through Accelerate (`viclip train`) and through `Trainer`.

The library (model, processing, data) has no training loop; this package imports it. One policy for both
trainers: `resolve_mixed_precision`, `param_groups` (with optional layer-wise decay), `config_for_size`.
"""

from .collator import ViCLIPDataCollator
from .config import ConfigError, TrainingConfig, parse_training_config
from .init_from_clip_model import (
    clip_model_state_dict_to_viclip,
    viclip_config_from_clip_model,
    viclip_from_clip_model,
)
from .loss import ContrastiveTrainingModule, gather_features, gathered_contrastive_loss
from .model_sizes import SCRATCH_SIZES, config_for_size
from .optim import build_optimizer, build_scheduler, cosine_lr_factor, layer_id, param_groups
from .precision import resolve_mixed_precision, trainer_precision_flags

__all__ = [
    "SCRATCH_SIZES",
    "ConfigError",
    "ContrastiveTrainingModule",
    "TrainingConfig",
    "ViCLIPDataCollator",
    "build_optimizer",
    "build_scheduler",
    "clip_model_state_dict_to_viclip",
    "config_for_size",
    "cosine_lr_factor",
    "gather_features",
    "gathered_contrastive_loss",
    "layer_id",
    "param_groups",
    "parse_training_config",
    "resolve_mixed_precision",
    "trainer_precision_flags",
    "viclip_config_from_clip_model",
    "viclip_from_clip_model",
]
