from __future__ import annotations

import json

import pytest

from viclip.training import ConfigError, TrainingConfig
from viclip.training.config import builtin_config_names, parse_training_config


def test_defaults_are_the_viclip_recipe():
    config = TrainingConfig()
    assert (config.learning_rate, config.betas, config.weight_decay) == (4e-4, [0.9, 0.98], 0.2)
    assert (config.mask_ratio, config.drop_path_rate, config.min_lr_ratio) == (0.9, 0.1, 0.01)
    assert config.freeze_text and config.gradient_checkpointing and config.mixed_precision == "auto"


def test_yaml_file_and_command_line_overrides_through_hf_argument_parser(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("model_size: viclip-l14\nfreeze_text: true\nlearning_rate: 2e-4\nmax_steps: 50\n")
    config = TrainingConfig.from_file(path)
    assert config.learning_rate == 2e-4  # YAML reads "2e-4" as a string; the field type converts it
    config = config.with_overrides(
        ["--learning_rate", "1e-4", "--freeze_text=false", "--betas", "0.9", "0.95", "--warmup-steps", "5",
         "--model_config", '{"projection_dim": 32}']
    )  # fmt: skip
    assert config.model_size == "viclip-l14" and config.max_steps == 50
    assert config.learning_rate == 1e-4 and config.freeze_text is False
    assert config.betas == [0.9, 0.95] and config.num_warmup_steps == 5
    assert config.model_config == {"projection_dim": 32}


def test_json_config_and_warmup_ratio(tmp_path):
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"max_steps": 200, "warmup_ratio": 0.1}))
    assert TrainingConfig.from_file(path).num_warmup_steps == 20


def test_saved_config_reads_back_identically(tmp_path):
    config = TrainingConfig.from_file("synthetic_cpu").with_overrides({"max_steps": 7})
    config.save(tmp_path / "saved.yaml")
    assert TrainingConfig.from_file(tmp_path / "saved.yaml") == config


@pytest.mark.parametrize(
    "name",
    ["internvid10m_flt_l14", "internvid10m_flt_b16", "finetune_small", "finetune_clips", "synthetic_cpu"],
)
def test_builtin_configs_load_by_name(name):
    assert name in builtin_config_names()
    config = TrainingConfig.from_file(name)
    assert config.max_steps >= 500


def test_pretraining_configs_start_from_a_clip_model():
    assert (
        TrainingConfig.from_file("internvid10m_flt_b16").init_from_clip_model
        == "openai/clip-vit-base-patch16"
    )


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"learning_rte": 1.0}, "unknown key 'learning_rte'"),
        ({"max_steps": "many"}, "invalid int value: 'many'"),
        ({"max_steps": 1.5}, "max_steps must be an integer"),
        ({"freeze_text": "yes please"}, "Truthy value expected"),
        ({"mask_ratio": 1.0}, r"mask_ratio must be in \[0, 1\)"),
        (
            {"init_from": "a", "init_from_clip_model": "b"},
            "at most one of init_from, init_from_clip_model; .* --init-from null",
        ),
        ({"model_config": "[1, 2]"}, "model_config must be a mapping"),
    ],
)
def test_bad_values_are_named(values, message):
    with pytest.raises(ConfigError, match=message) as error:
        TrainingConfig.from_dict(values, source="run.yaml")
    assert str(error.value).startswith("run.yaml: ")


def test_missing_config_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"config file not found: .*nope\.yaml .*synthetic_cpu"):
        TrainingConfig.from_file(tmp_path / "nope.yaml")


def test_override_without_value_is_an_error():
    with pytest.raises(ConfigError, match=r"command line: argument --max_steps.*expected one argument"):
        parse_training_config({}, ["--max_steps"])


def test_unknown_override_is_an_error():
    with pytest.raises(ConfigError, match=r"unknown option.*--bogus"):
        parse_training_config({}, ["--bogus", "1"])
