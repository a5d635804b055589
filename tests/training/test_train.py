"""The Accelerate training loop on one CPU process: the loss drops, checkpoints rotate, the final folder
reloads with `AutoModel`, and the CLI reports bad input in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from accelerate.state import AcceleratorState
from tiny_data import tiny_batch, tiny_examples, tiny_model, tiny_stream, tiny_train_config
from transformers import AutoModel, AutoProcessor

from viclip import ViCLIPModel
from viclip_cli import main
from viclip.training.train import check_process_count, set_training_regularisation, train


@pytest.fixture(autouse=True)
def reset_accelerate():
    yield
    AcceleratorState._reset_state(reset_partial_state=True)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("train")
    config = tiny_train_config(
        tmp_path, max_steps=12, save_steps=4, save_total_limit=2, learning_rate=1e-3, warmup_steps=2,
        per_device_batch_size=8, eval_batch_size=8, freeze_text=True,
    )  # fmt: skip
    model = tiny_model()
    text_before = {k: v.clone() for k, v in model.text_model.state_dict().items()}
    result = train(config, model=model, train_dataset=tiny_stream(32), eval_examples=tiny_examples(8, seed=1))
    AcceleratorState._reset_state(reset_partial_state=True)
    return config, result, text_before


def test_training_lowers_the_loss_and_logs_the_recipe_metrics(trained):
    _, result, _ = trained
    losses = [row["loss"] for row in result.history if "loss" in row]
    assert len(losses) == 12
    assert sum(losses[-3:]) / 3 < 0.75 * sum(losses[:3]) / 3
    row = next(r for r in result.history if "loss" in r)
    assert {"lr", "logit_scale", "clips_per_s"} <= row.keys()
    assert result.eval_metrics["t2v_R@1"] >= 25.0 and "v2t_R@5" in result.eval_metrics


def test_frozen_text_tower_does_not_move(trained):
    _, result, text_before = trained
    model = ViCLIPModel.from_pretrained(result.final_dir)
    for name, value in model.text_model.state_dict().items():
        torch.testing.assert_close(value, text_before[name], msg=name)


def test_checkpoints_keep_the_last_k(trained):
    config, _, _ = trained
    config_dir = Path(config.output_dir) / "checkpoints"
    names = sorted(p.name for p in config_dir.iterdir())
    assert names == ["step-00000008", "step-00000012"]
    assert (config_dir / "step-00000012" / "trainer_state_rank0.json").is_file()


def test_final_folder_reloads_with_auto_classes_without_training_settings(trained):
    _, result, _ = trained
    model = AutoModel.from_pretrained(result.final_dir)
    processor = AutoProcessor.from_pretrained(result.final_dir)
    assert isinstance(model, ViCLIPModel)
    assert model.config.vision_config.mask_ratio == 0.0 and model.config.vision_config.drop_path_rate == 0.0
    assert type(processor).__name__ == "ViCLIPProcessor"
    with torch.no_grad():
        out = model.eval()(**tiny_batch(2))
    assert out.logits_per_video.shape == (2, 2)


def test_set_training_regularisation_updates_a_built_model():
    model = tiny_model()
    set_training_regularisation(model, mask_ratio=0.9, drop_path_rate=0.1)
    assert model.vision_model.config.mask_ratio == 0.9
    rates = [layer.drop_path.drop_prob for layer in model.vision_model.encoder.layers]
    assert rates == pytest.approx([0.0, 0.1])


def test_cli_reports_an_unknown_key_in_one_line(tmp_path, capsys):
    config = tmp_path / "bad.yaml"
    config.write_text("learning_rte: 0.1\n")
    assert main(["train", "--config", str(config)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"viclip train: error: {config}: unknown key 'learning_rte'"


def test_cli_reports_resume_without_checkpoint(tmp_path, capsys):
    assert main(["train", "--output_dir", str(tmp_path), "--resume", "latest", "--report_to", "none"]) == 1
    err = capsys.readouterr().err
    assert "no checkpoint in" in err and len(err.strip().splitlines()) == 1


def test_cli_prints_the_resolved_config_with_overrides(capsys):
    assert (
        main(
            ["train", "--config", "synthetic_cpu", "--max-steps", "7", "--video_root", "v/", "--print-config"]
        )
        == 0
    )
    printed = json.loads(capsys.readouterr().out)
    assert printed["max_steps"] == 7 and printed["video_root"] == "v/" and printed["model_preset"] == "small"


def test_cpu_launch_that_starts_one_process_instead_of_several_is_refused():
    """`accelerate launch --cpu --num_processes 2` runs Accelerate's one-process launcher (issue 11 #12)."""
    accelerate_cpu_launch = {"ACCELERATE_USE_CPU": "True", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29500"}
    with pytest.raises(RuntimeError, match=r"starts only ONE process.*torchrun --nproc_per_node"):
        check_process_count(1, accelerate_cpu_launch)
    with pytest.raises(RuntimeError, match="WORLD_SIZE=4 but only 2"):
        check_process_count(2, {"WORLD_SIZE": "4"})
    check_process_count(1, {"ACCELERATE_USE_CPU": "True"})  # a plain one-process CPU run
    check_process_count(2, {**accelerate_cpu_launch, "WORLD_SIZE": "2"})  # torchrun


def test_final_folder_is_a_complete_hub_folder(trained):
    """Issue 11 #5: remote code, processor, tokenizer and a model card, accepted by `viclip push`'s check."""
    from viclip.hub import REMOTE_CODE_FILES, check_folder

    _, result, _ = trained
    names = {p.name for p in result.final_dir.iterdir()}
    assert set(REMOTE_CODE_FILES) <= names and "README.md" in names and "model.safetensors" in names
    config = json.loads((result.final_dir / "config.json").read_text())
    assert "AutoModel" in config["auto_map"]
    assert "viclip train" in (result.final_dir / "README.md").read_text()
    check_folder(result.final_dir)
