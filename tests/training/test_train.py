"""The Accelerate training loop on one CPU process: the loss drops, checkpoints rotate, the final folder
reloads with `AutoModel`, and the CLI reports bad input in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from accelerate.state import AcceleratorState
from tiny_data import REGULARISATION, tiny_batch, tiny_examples, tiny_model, tiny_stream, tiny_train_config
from transformers import AutoModel, AutoProcessor

from viclip import ViCLIPModel
from viclip.training import build_model, train
from viclip.training.accelerator import check_process_count
from viclip.training.config import ConfigError
from viclip_cli import main


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
    model = tiny_model(**REGULARISATION)
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


def test_final_folder_reloads_with_auto_classes_and_the_runs_regularisation(trained):
    _, result, _ = trained
    model = AutoModel.from_pretrained(result.final_dir)
    processor = AutoProcessor.from_pretrained(result.final_dir)
    assert isinstance(model, ViCLIPModel)
    vision = model.config.vision_config
    assert (vision.mask_ratio, vision.drop_path_rate) == (0.5, 0.1)  # as built: kept, not zeroed and restored
    assert type(processor).__name__ == "ViCLIPProcessor"
    with torch.no_grad():
        out = model.eval()(**tiny_batch(2))
    assert out.logits_per_video.shape == (2, 2)


def test_build_model_builds_the_runs_regularisation_into_the_model(tmp_path):
    config = tiny_train_config(tmp_path, model_size="tiny", model_config={"vision_config": {"image_size": 32,
                               "patch_size": 8, "num_frames": 4}}, mask_ratio=0.9, drop_path_rate=0.1)  # fmt: skip
    model = build_model(config)
    assert model.vision_model.config.mask_ratio == 0.9
    rates = [layer.drop_path.drop_prob for layer in model.vision_model.encoder.layers]
    assert rates == pytest.approx([0.0, 0.1])
    assert model.config._attn_implementation == "eager"  # one way for every source: set_attn_implementation


def test_a_model_built_with_other_regularisation_than_the_run_is_refused(tmp_path):
    with pytest.raises(
        ConfigError, match=r"built with mask_ratio 0.0 and drop_path_rate 0.0 but the config sets 0.5"
    ):
        train(tiny_train_config(tmp_path), model=tiny_model(), train_dataset=tiny_stream(8))


def test_a_misspelt_part_of_the_run_is_refused_before_anything_is_built(tmp_path):
    """train and setup take their parts as keywords (RunParts): a name that is not one of them is a TypeError, as it
    was with the explicit signature, not silently a part built from the config."""
    with pytest.raises(TypeError, match=r"unexpected keyword arguments \['eval_example'\]"):
        train(tiny_train_config(tmp_path), model=tiny_model(**REGULARISATION), eval_example=tiny_examples(2))
    assert not (tmp_path / "run").exists()


def test_a_model_and_a_model_source_in_the_config_are_refused(tmp_path):
    config = tiny_train_config(tmp_path, init_from=str(tmp_path / "folder"))
    with pytest.raises(ConfigError, match="either a model or the config's init_from"):
        train(config, model=tiny_model(**REGULARISATION), train_dataset=tiny_stream(8))


@pytest.mark.parametrize("with_processor", [True, False], ids=["saved-processor", "config-only"])
def test_a_run_from_a_four_frame_folder_trains_on_four_frames_and_saves_a_four_frame_processor(
    tmp_path, with_processor, monkeypatch
):
    """Issue 22: `num_frames` defaulted to 8 in the training config, so a 4-frame folder trained on 8 frames
    (the temporal table interpolated) and saved a processor of another count."""
    from viclip.data.synthetic import generate_synthetic_internvid
    from viclip.hub import save_hub_folder
    from viclip.processing import ViCLIPProcessor
    from viclip.training import loop as train_module

    folder = tmp_path / "four-frame-model"
    if with_processor:
        save_hub_folder(tiny_model(), ViCLIPProcessor.for_model(image_size=32, num_frames=4), folder)
    else:
        tiny_model().save_pretrained(folder)  # config and weights only: the processor comes from its config
    data = generate_synthetic_internvid(
        tmp_path / "data",
        num_videos=2,
        clips_per_video=4,
        seconds=2.0,
        size=40,
        fps=8,
        seed=0,
        progress=False,
    )
    shapes = []
    step = train_module.TrainingRun.training_step
    monkeypatch.setattr(
        train_module.TrainingRun,
        "training_step",
        lambda run, batch: shapes.append(tuple(batch["pixel_values_videos"].shape)) or step(run, batch),
    )
    argv = ["train", "--init-from", str(folder), "--train-annotations", str(data.annotations),
            "--video-root", str(data.video_dir), "--output-dir", str(tmp_path / "run"), "--max-steps", "2",
            "--per-device-batch-size", "4", "--save-steps", "0", "--report-to", "none", "--progress", "false",
            "--attn-implementation", "eager", "--gradient-checkpointing", "false"]  # fmt: skip
    assert main(argv) == 0
    assert shapes and all(shape[1:] == (4, 3, 32, 32) for shape in shapes)
    saved = AutoProcessor.from_pretrained(tmp_path / "run" / "final")
    assert saved.video_processor.num_frames == 4
    assert AutoModel.from_pretrained(tmp_path / "run" / "final").config.vision_config.num_frames == 4


def test_a_folder_whose_processor_disagrees_with_its_model_is_refused(tmp_path):
    from viclip.hub import save_hub_folder
    from viclip.processing import ViCLIPProcessor

    folder = tmp_path / "inconsistent"
    save_hub_folder(tiny_model(), ViCLIPProcessor.for_model(image_size=32, num_frames=8), folder)
    with pytest.raises(ValueError, match=r"gives 8 frames per clip but its model has 4"):
        train(tiny_train_config(tmp_path, init_from=str(folder)), train_dataset=tiny_stream(8))


def test_cli_reports_an_unknown_key_in_one_line(tmp_path, capsys):
    config = tmp_path / "bad.yaml"
    config.write_text("learning_rte: 0.1\n")
    assert main(["train", "--config", str(config)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"viclip train: error: {config}: unknown key 'learning_rte'"


def test_cli_reports_resume_without_checkpoint(tmp_path, capsys):
    assert main(["train", "--output_dir", str(tmp_path), "--resume", "latest", "--report_to", "none"]) == 2
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
    assert printed["max_steps"] == 7 and printed["video_root"] == "v/" and printed["model_size"] == "small"


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
