from __future__ import annotations

import json

import pytest

from viclip.training import ConfigError, TrainingConfig
from viclip.training.config import parse_overrides


def test_defaults_are_the_viclip_recipe():
    config = TrainingConfig()
    assert (config.learning_rate, config.betas, config.weight_decay) == (4e-4, [0.9, 0.98], 0.2)
    assert (config.mask_ratio, config.drop_path_rate, config.min_lr_ratio) == (0.9, 0.1, 0.01)
    assert config.freeze_text and config.gradient_checkpointing and config.mixed_precision == "auto"


def test_yaml_sections_and_command_line_overrides(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text(
        "model:\n  model_preset: viclip-l14\n  freeze_text: true\noptim:\n  learning_rate: 2.0e-4\nmax_steps: 50\n"
    )
    config = TrainingConfig.from_file(path).with_overrides(
        ["--learning_rate", "1e-4", "--freeze_text=false", "--betas", "[0.9, 0.95]", "--warmup-steps", "5"]
    )
    assert config.model_preset == "viclip-l14" and config.max_steps == 50
    assert config.learning_rate == 1e-4 and config.freeze_text is False
    assert config.betas == [0.9, 0.95] and config.num_warmup_steps == 5


def test_json_config_and_warmup_ratio(tmp_path):
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"max_steps": 200, "warmup_ratio": 0.1}))
    assert TrainingConfig.from_file(path).num_warmup_steps == 20


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"learning_rte": 1.0}, "unknown key 'learning_rte'"),
        ({"max_steps": "many"}, "max_steps must be an integer"),
        ({"freeze_text": "yes please"}, "freeze_text must be true or false"),
        ({"mask_ratio": 1.0}, r"mask_ratio must be in \[0, 1\)"),
        ({"init_from": "a", "init_from_clip": "b"}, "at most one of init_from and init_from_clip"),
    ],
)
def test_bad_values_are_named(values, message):
    with pytest.raises(ConfigError, match=message):
        TrainingConfig.from_dict(values, source="run.yaml")


def test_missing_config_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"config file not found: .*nope\.yaml"):
        TrainingConfig.from_file(tmp_path / "nope.yaml")


def test_override_without_value_is_an_error():
    with pytest.raises(ConfigError, match="--max_steps needs a value"):
        parse_overrides(["--max_steps"])
