"""The original <-> ViCLIPModel mapping is strict, complete and exact for the released sizes."""

from __future__ import annotations

import json

import pytest
import torch

from viclip import StateDictMismatchError, ViCLIPConfig, convert_original_state_dict, to_original_state_dict
from viclip.modeling import expected_model_shapes
from viclip_testing import ASSETS

RELEASED = {
    "viclip-l14": ("viclip-l14_state_dict_shapes.json", 447, 427_590_145),
    "viclip-b16": ("viclip-b16_state_dict_shapes.json", 303, 149_603_841),
}


def meta_state_dict(shapes: dict[str, list[int]]) -> dict[str, torch.Tensor]:
    return {key: torch.empty(shape, device="meta") for key, shape in shapes.items()}


@pytest.mark.parametrize("preset", sorted(RELEASED))
def test_presets_have_exactly_the_released_keys_shapes_and_parameter_count(preset):
    filename, num_keys, num_params = RELEASED[preset]
    released = json.loads((ASSETS / filename).read_text())["state_dict_shapes"]
    config = ViCLIPConfig.from_preset(preset)

    converted = convert_original_state_dict(meta_state_dict(released), config)
    model_shapes = expected_model_shapes(config)
    assert {k: tuple(v.shape) for k, v in converted.items()} == model_shapes
    assert sum(torch.Size(shape).numel() for shape in model_shapes.values()) == num_params

    back = to_original_state_dict(converted, config)
    assert len(back) == num_keys
    assert {k: list(v.shape) for k, v in back.items()} == released


def test_missing_unexpected_and_misshaped_keys_are_all_listed(
    tiny_dev_viclip_config, original_tiny_state_dict
):
    broken = dict(original_tiny_state_dict)
    del broken["vision_encoder.ln_post.bias"]
    broken["vision_encoder.extra_head.weight"] = torch.zeros(3)
    broken["text_encoder.text_projection"] = torch.zeros(5, 5)
    with pytest.raises(StateDictMismatchError) as info:
        convert_original_state_dict(broken, tiny_dev_viclip_config)
    message = str(info.value)
    assert "missing keys (1): vision_model.post_layernorm.bias" in message
    assert "unexpected keys (1): vision_encoder.extra_head.weight" in message
    assert "text_projection.weight (5, 5) (expected (32, 48))" in message


def test_state_dict_of_another_size_is_refused(original_tiny_state_dict):
    with pytest.raises(StateDictMismatchError, match="shape mismatches"):
        convert_original_state_dict(original_tiny_state_dict, ViCLIPConfig.from_preset("viclip-b16"))


def test_inverse_mapping_refuses_an_incomplete_model_state_dict(tiny_dev_viclip_config):
    with pytest.raises(StateDictMismatchError, match="missing keys"):
        to_original_state_dict({"logit_scale": torch.tensor(4.0)}, tiny_dev_viclip_config)
