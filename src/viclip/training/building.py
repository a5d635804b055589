"""The model and the processor of a training run: built from a `TrainingConfig` (a ViCLIP folder, a CLIP model or a
fresh size), with the run's regularisation built in, and saved at the end as a complete Hub folder."""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from ..modeling import ViCLIPConfig, ViCLIPModel
from ..processing import ViCLIPProcessor
from .config import ConfigError, TrainingConfig
from .model_sizes import config_for_size

logger = logging.getLogger(__name__)


def build_model(config: TrainingConfig) -> ViCLIPModel:
    """The model to train: a ViCLIP folder (fine-tuning), a CLIP model (as ViCLIP was made), or a fresh model of
    `model_size` with `model_config`. The run's regularisation (`mask_ratio`, `drop_path_rate`) is set in the
    config the model is built with; the attention implementation is set once, the same way for all three."""
    regularisation = {"mask_ratio": config.mask_ratio, "drop_path_rate": config.drop_path_rate}
    if config.init_from:
        model_config = ViCLIPConfig.from_pretrained(config.init_from)
        model_config.vision_config.update(regularisation)
        model = ViCLIPModel.from_pretrained(config.init_from, config=model_config)
    elif config.init_from_clip_model:
        from .init_from_clip_model import viclip_from_clip_model

        overrides = dict(config.model_config)
        vision = overrides.pop("vision_config", {})
        if overrides:
            raise ConfigError(
                f"model_config: with init_from_clip_model only vision_config applies (the sizes are CLIP's), "
                f"got {sorted(overrides)}"
            )
        model = viclip_from_clip_model(config.init_from_clip_model, **{**vision, **regularisation})
    else:
        overrides = dict(config.model_config)
        vision = {**overrides.pop("vision_config", {}), **regularisation}
        try:
            model_config = config_for_size(
                config.model_size or "viclip-b16", vision_config=vision, **overrides
            )
        except ValueError as error:
            raise ConfigError(f"model_size: {error}") from None
        model = ViCLIPModel(model_config)
    model.set_attn_implementation(config.attn_implementation)
    return model


def check_regularisation(model: ViCLIPModel, config: TrainingConfig) -> None:
    """A model built elsewhere trains with its own config's regularisation: refuse one that differs from the
    run's (it would be silently ignored)."""
    vision = model.config.vision_config
    built, wanted = (vision.mask_ratio, vision.drop_path_rate), (config.mask_ratio, config.drop_path_rate)
    if built != wanted:
        raise ConfigError(
            f"the model was built with mask_ratio {built[0]} and drop_path_rate {built[1]} but the config sets "
            f"{wanted[0]} and {wanted[1]}: build it with viclip.training.build_model(config), or set the "
            "config's values to the model's"
        )


def prepare_model_for_training(model: ViCLIPModel, config: TrainingConfig) -> ViCLIPModel:
    """Apply the recipe switches: frozen text tower, gradient checkpointing, training mode (masking and
    drop-path were set when the model was built: `check_regularisation`)."""
    check_regularisation(model, config)
    if config.freeze_text:
        for param in [*model.text_model.parameters(), *model.text_projection.parameters()]:
            param.requires_grad_(False)
    if config.gradient_checkpointing:
        model.activation_checkpointing_enable()
    model.train()
    return model


def save_final_model(
    model: ViCLIPModel,
    out_dir: Path,
    processor: ViCLIPProcessor,
    *,
    state_dict: dict[str, torch.Tensor] | None = None,
    model_card: str | None = None,
) -> None:
    """A complete Hub folder (weights, processor, remote code, model card; `viclip.hub.save_hub_folder`) that
    `AutoModel.from_pretrained` loads and `viclip push` accepts. Its config keeps the run's masking and drop-path
    (as transformers models keep their dropout settings): they act in training mode only, and every ViCLIP
    trainer sets its own when it builds a model. Call it on the main process only."""
    from ..hub import save_hub_folder

    if state_dict is not None:  # the gathered weights of a sharded run (FSDP, DeepSpeed ZeRO-3)
        model = _with_state_dict(model, state_dict)
    save_hub_folder(model, processor, out_dir, model_card=model_card, force=True)


def _with_state_dict(model: ViCLIPModel, state_dict: dict[str, torch.Tensor]) -> ViCLIPModel:
    """`model` itself when it already holds `state_dict`, else a CPU copy built from its config."""
    own = model.state_dict()
    if all(k in own and own[k].shape == v.shape for k, v in state_dict.items()):
        model.load_state_dict(state_dict, strict=False)
        return model
    copy = type(model)(model.config)
    copy.load_state_dict(state_dict)
    return copy


def processor_for_run(
    config: TrainingConfig, model: ViCLIPModel, processor: ViCLIPProcessor | None = None
) -> ViCLIPProcessor:
    """The one processor of a run (its frames, size and normalisation feed training, evaluation and the saved
    folder): `processor` if given, else the `init_from` folder's, else the default one of the model's config;
    refused when it does not fit the model."""
    from ..data.model_processor import check_processor_fits, default_processor, load_model_processor

    if processor is None:
        if config.init_from:
            return load_model_processor(config.init_from, model.config)
        return default_processor(model.config)
    try:
        check_processor_fits(processor, model.config, "the processor passed to train", "the model")
    except ValueError as error:
        raise ConfigError(str(error)) from None
    return processor
