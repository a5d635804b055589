"""ViCLIP configurations: released presets, validation at construction, serialisation."""

from __future__ import annotations

import pytest
from huggingface_hub.errors import StrictDataclassClassValidationError

from viclip import ViCLIPConfig, ViCLIPTextConfig, ViCLIPVisionConfig


def test_defaults_are_viclip_l14():
    config = ViCLIPConfig()
    assert config.model_type == "viclip"
    vision, text = config.vision_config, config.text_config
    assert (vision.hidden_size, vision.num_hidden_layers, vision.num_attention_heads, vision.patch_size) == (
        1024,
        24,
        16,
        14,
    )
    assert (vision.image_size, vision.num_frames, vision.intermediate_size) == (224, 8, 4096)
    assert (text.hidden_size, text.num_hidden_layers, text.num_attention_heads, text.vocab_size) == (
        768,
        12,
        12,
        49408,
    )
    assert text.max_position_embeddings == 32
    assert config.projection_dim == 768
    assert config.logit_scale_init_value == pytest.approx(4.60517, abs=1e-5)  # temperature 0.01


@pytest.mark.parametrize("name", ["viclip-b16", "b", "B16"])
def test_b16_preset_by_name(name):
    config = ViCLIPConfig.from_preset(name)
    assert (config.vision_config.hidden_size, config.vision_config.patch_size) == (768, 16)
    assert (config.text_config.hidden_size, config.text_config.num_attention_heads) == (512, 8)
    assert config.projection_dim == 512


def test_preset_accepts_overrides():
    config = ViCLIPConfig.from_preset("viclip-b16", vision_config={"num_frames": 4}, projection_dim=256)
    assert config.vision_config.num_frames == 4
    assert config.vision_config.hidden_size == 768
    assert config.projection_dim == 256


def test_unknown_preset_is_named_in_the_error():
    with pytest.raises(ValueError, match="unknown ViCLIP preset 'viclip-h14'"):
        ViCLIPConfig.from_preset("viclip-h14")


@pytest.mark.parametrize(
    ("config_cls", "kwargs", "message"),
    [
        (
            ViCLIPVisionConfig,
            {"hidden_size": 100, "num_attention_heads": 3},
            "not divisible by num_attention_heads",
        ),
        (
            ViCLIPVisionConfig,
            {"image_size": 225},
            r"image_size \(225\) is not divisible by patch_size \(14\)",
        ),
        (ViCLIPVisionConfig, {"num_frames": 0}, "num_frames must be positive"),
        (ViCLIPVisionConfig, {"mask_ratio": 1.0}, r"mask_ratio must be in \[0, 1\)"),
        (ViCLIPTextConfig, {"hidden_size": 50, "num_attention_heads": 4}, "text hidden_size"),
        (
            ViCLIPConfig,
            {"vision_config": {"image_size": 100, "patch_size": 16}},
            "not divisible by patch_size",
        ),
        (ViCLIPConfig, {"projection_dim": 0}, "projection_dim must be positive"),
    ],
)
def test_invalid_sizes_raise_a_clear_error_at_construction(config_cls, kwargs, message):
    with pytest.raises(StrictDataclassClassValidationError, match=message):
        config_cls(**kwargs)


def test_config_round_trips_through_json(tmp_path):
    config = ViCLIPConfig.from_preset("viclip-b16", vision_config={"num_frames": 16, "mask_ratio": 0.9})
    config.save_pretrained(tmp_path)
    loaded = ViCLIPConfig.from_pretrained(tmp_path)
    assert loaded.to_dict() == config.to_dict()
    assert isinstance(loaded.vision_config, ViCLIPVisionConfig)
    assert loaded.vision_config.num_frames == 16
