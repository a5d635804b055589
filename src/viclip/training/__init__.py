"""Training ViCLIP: the contrastive recipe through Accelerate (`viclip train`) and through `Trainer`.

The library (model, processing, data) has no training loop; this package imports it. `train` (:mod:`.loop`) runs a
`TrainingConfig`; :mod:`.building` builds its model and processor, :mod:`.run_data` its data, :mod:`.accelerator` its
Accelerator. One policy for both trainers: `resolve_mixed_precision`, `param_groups` (with optional layer-wise
decay), `config_for_size`.
"""

from .building import build_model, prepare_model_for_training, save_final_model
from .collator import ViCLIPDataCollator
from .config import ConfigError, TrainingConfig, parse_training_config
from .init_from_clip_model import (
    clip_model_state_dict_to_viclip,
    viclip_config_from_clip_model,
    viclip_from_clip_model,
)
from .loop import TrainingRun, TrainResult, setup, train
from .loss import ContrastiveTrainingModule, gather_features, gathered_contrastive_loss
from .model_sizes import SCRATCH_SIZES, config_for_size
from .optim import build_optimizer, build_scheduler, cosine_lr_factor, layer_id, param_groups
from .precision import resolve_mixed_precision, trainer_precision_flags

__all__ = [
    "SCRATCH_SIZES",
    "ConfigError",
    "ContrastiveTrainingModule",
    "TrainResult",
    "TrainingConfig",
    "TrainingRun",
    "ViCLIPDataCollator",
    "build_model",
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
    "prepare_model_for_training",
    "resolve_mixed_precision",
    "save_final_model",
    "setup",
    "train",
    "trainer_precision_flags",
    "viclip_config_from_clip_model",
    "viclip_from_clip_model",
]
