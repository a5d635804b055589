"""One table of model sizes: the released presets plus the small scratch sizes, used by both trainers."""

from __future__ import annotations

import pytest

from viclip import ViCLIPConfig
from viclip.training import TrainingConfig, build_model, config_for_size


def test_released_sizes_are_the_modeling_presets():
    assert config_for_size("viclip-l14").to_dict() == ViCLIPConfig.from_preset("viclip-l14").to_dict()


def test_small_sizes_override_b16_and_accept_overrides():
    config = config_for_size("tiny", vision_config={"image_size": 32, "patch_size": 8}, num_labels=3)
    assert (config.vision_config.hidden_size, config.vision_config.num_hidden_layers) == (64, 2)
    assert config.vision_config.image_size == 32 and config.projection_dim == 64 and config.num_labels == 3


def test_unknown_size_names_the_choices():
    with pytest.raises(ValueError, match=r"unknown model size 'huge'.*tiny, small, viclip-b16, viclip-l14"):
        config_for_size("huge")


def test_synthetic_cpu_config_builds_the_same_model_as_before_the_size_table():
    model = build_model(TrainingConfig.from_file("synthetic_cpu"))
    before = ViCLIPConfig.from_preset(
        "viclip-b16", projection_dim=64, logit_scale_init_value=2.6593,
        vision_config={"hidden_size": 128, "intermediate_size": 512, "num_hidden_layers": 4,
                       "num_attention_heads": 4, "image_size": 64, "patch_size": 16, "num_frames": 8},
        text_config={"hidden_size": 64, "intermediate_size": 256, "num_hidden_layers": 2, "num_attention_heads": 4},
    )  # fmt: skip
    before._attn_implementation = "sdpa"
    assert model.config.to_dict() == before.to_dict()
