"""Training ViCLIP: the contrastive recipe through Accelerate (`viclip train`) and through `Trainer`.

The library (model, processing, data) has no training loop; this package imports it.
"""

from .collator import ViCLIPDataCollator
from .config import ConfigError, TrainingConfig
from .init_from_clip import clip_state_dict_to_viclip, viclip_config_from_clip, viclip_from_clip
from .loss import ContrastiveTrainingModule, contrastive_loss, gather_features
from .optim import build_optimizer, build_scheduler, cosine_lr_factor, param_groups

__all__ = [
    "ConfigError",
    "ContrastiveTrainingModule",
    "TrainingConfig",
    "ViCLIPDataCollator",
    "build_optimizer",
    "build_scheduler",
    "clip_state_dict_to_viclip",
    "contrastive_loss",
    "cosine_lr_factor",
    "gather_features",
    "param_groups",
    "viclip_config_from_clip",
    "viclip_from_clip",
]
