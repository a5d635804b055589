"""The fine-tuning recipe: layer-wise decay groups, top-k metrics, and a few Trainer steps end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from transformers import EvalPrediction, pipeline

from viclip import ViCLIPForVideoClassification
from viclip.classification.finetune import (
    LayerDecayTrainer,
    build_classifier,
    classifier_processor,
    topk_metrics,
)
from viclip.training import param_groups
from viclip_cli import main

from .conftest import LABELS, classifier_config


def test_classifier_groups_use_the_shared_policy_with_layer_decay():
    model = ViCLIPForVideoClassification(classifier_config())
    groups = param_groups(model, weight_decay=0.05, learning_rate=1.0, layer_decay=0.5)
    lr_of = {id(p): (g["lr"], g["weight_decay"]) for g in groups for p in g["params"]}
    params = dict(model.named_parameters())
    assert lr_of[id(params["classifier.weight"])] == (1.0, 0.05)
    assert lr_of[id(params["classifier.bias"])] == (1.0, 0.0)
    assert lr_of[id(params["vision_model.encoder.layers.1.mlp.fc1.weight"])] == (0.5, 0.05)
    assert lr_of[id(params["vision_model.embeddings.temporal_embedding"])] == (0.125, 0.0)
    assert sum(len(g["params"]) for g in groups) == len(params)


def test_topk_metrics_in_percent_and_only_for_k_below_the_class_count():
    logits = np.array([[3.0, 2, 1, 0, 0, 0], [0, 1, 3, 2, 0, 0], [0, 0, 0, 0, 1, 2]])
    labels = np.array([0, 3, 4])
    assert topk_metrics(6)(EvalPrediction(logits, labels)) == pytest.approx({"top1": 100 / 3, "top5": 100.0})
    assert set(topk_metrics(4)(EvalPrediction(logits[:, :4], np.array([0, 3, 3])))) == {"top1"}


def test_build_classifier_from_a_classifier_folder_reinitialises_a_head_of_another_size(tmp_path):
    ViCLIPForVideoClassification(classifier_config()).save_pretrained(tmp_path)
    model = build_classifier(["a", "b"], str(tmp_path), drop_path_rate=0.2)
    assert model.config.id2label == {0: "a", 1: "b"} and model.classifier.out_features == 2
    assert model.vision_model.encoder.layers[-1].drop_path.drop_prob == pytest.approx(0.2)
    assert model.config.vision_config.mask_ratio == 0.0  # set when built, whatever the folder had


def test_a_start_folder_next_to_a_random_init_size_is_refused(tmp_path):
    with pytest.raises(ValueError, match="either init_from or model_size"):
        build_classifier(["a", "b"], str(tmp_path), model_size="tiny")


def test_finetune_cli_trains_evaluates_and_saves_a_pipeline_ready_folder(synthetic_actions, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(
        [
            "finetune-classifier", "--train", str(synthetic_actions.train), "--eval", str(synthetic_actions.eval),
            "--labels", ",".join(LABELS), "--model-size", "tiny", "--output-dir", str(out),
            "--max-steps", "2", "--per-device-batch-size", "4", "--eval-batch-size", "2",
            "--eval-clips", "2", "--eval-crops", "1", "--no-flip", "--logging-steps", "1",
        ]
    )  # fmt: skip
    assert code == 0
    results = json.loads((out / "eval_results.json").read_text())
    assert 0.0 <= results["eval_top1"] <= 100.0 and results["eval_views"] == 2
    assert results["skipped_eval_videos"] == {}
    assert json.loads((out / "config.json").read_text())["id2label"] == {
        str(i): n for i, n in enumerate(LABELS)
    }
    assert (out / "processor_config.json").is_file() and (out / "model.safetensors").is_file()
    assert not list(out.glob("*.bin"))  # no pickles
    # Issue 11 #5: a complete Hub folder (remote code, processor, model card) that `viclip push` accepts.
    from viclip.hub import check_folder

    assert "AutoModelForVideoClassification" in json.loads((out / "config.json").read_text())["auto_map"]
    assert "viclip finetune-classifier" in (out / "README.md").read_text()
    check_folder(out)
    assert "eval_top1" in capsys.readouterr().out

    video = str(
        synthetic_actions.eval.parent
        / "videos"
        / next((synthetic_actions.eval.parent / "videos").iterdir()).name
    )
    result = pipeline("video-classification", model=str(out))(video, top_k=2)
    assert len(result) == 2 and {r["label"] for r in result} <= set(LABELS)


def test_finetune_cli_missing_list_is_a_one_line_usage_error(tmp_path, capsys):
    code = main(
        [
            "finetune-classifier",
            "--train",
            str(tmp_path / "absent.csv"),
            "--output-dir",
            str(tmp_path / "out"),
        ]
    )
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("viclip finetune-classifier: error:") and "absent.csv" in err and "\n" not in err
    assert not (tmp_path / "out").exists()


def test_trainer_optimizer_is_built_from_the_shared_param_groups(tmp_path):
    from transformers import TrainingArguments

    model = ViCLIPForVideoClassification(classifier_config())
    args = TrainingArguments(
        output_dir=str(tmp_path), learning_rate=1.0, weight_decay=0.05, report_to="none", use_cpu=True
    )
    optimizer = LayerDecayTrainer(model=model, args=args, layer_decay=0.5).create_optimizer()
    expected = param_groups(model, 0.05, learning_rate=1.0, layer_decay=0.5)
    assert [(g["lr"], g["weight_decay"], len(g["params"])) for g in optimizer.param_groups] == [
        (g["lr"], g["weight_decay"], len(g["params"])) for g in expected
    ]


def test_scratch_model_gets_a_random_temporal_table_and_a_loaded_one_keeps_its_own(tmp_path):
    torch.manual_seed(0)
    scratch = build_classifier(list(LABELS), model_size="tiny")
    assert scratch.config.vision_config.num_hidden_layers == 2  # viclip.training.model_sizes
    table = scratch.vision_model.embeddings.temporal_embedding
    assert table.abs().max() > 0 and table.std().item() == pytest.approx(0.02, rel=0.5)
    saved = ViCLIPForVideoClassification(classifier_config())
    saved.save_pretrained(tmp_path)
    loaded = build_classifier(list(LABELS), str(tmp_path))
    torch.testing.assert_close(
        loaded.vision_model.embeddings.temporal_embedding, saved.vision_model.embeddings.temporal_embedding
    )


def test_a_saved_hub_folder_gives_back_its_own_processor(tmp_path):
    from viclip.hub import save_hub_folder
    from viclip.processing import ViCLIPProcessor

    model = ViCLIPForVideoClassification(classifier_config())  # 8 frames of 32x32
    save_hub_folder(
        model, ViCLIPProcessor.for_model(image_size=32, num_frames=8, sampling="demo"), tmp_path / "s"
    )
    processor = classifier_processor(model, str(tmp_path / "s"))
    assert processor.video_processor.sampling == "demo" and processor.tokenizer is not None


def test_a_saved_processor_of_another_frame_count_than_its_model_is_refused(tmp_path):
    from viclip.hub import save_hub_folder
    from viclip.processing import ViCLIPProcessor

    model = ViCLIPForVideoClassification(classifier_config())  # 8 frames
    save_hub_folder(model, ViCLIPProcessor.for_model(image_size=32, num_frames=4), tmp_path / "saved")
    with pytest.raises(ValueError, match="gives 4 frames per clip but its model has 8"):
        classifier_processor(model, str(tmp_path / "saved"))


@pytest.mark.parametrize("with_processor", [True, False], ids=["saved-processor", "config-only"])
def test_finetuning_a_four_frame_folder_trains_on_four_frames_and_saves_a_four_frame_processor(
    synthetic_actions, tmp_path, with_processor, monkeypatch
):
    """Issue 22: the frames come from the start folder's processor (its model has 4), not from a default of 8."""
    from viclip.classification import finetune as finetune_module
    from viclip.hub import save_hub_folder
    from viclip.processing import ViCLIPProcessor

    config = classifier_config()
    config.vision_config.num_frames = 4
    folder = tmp_path / "four-frame-model"
    model = ViCLIPForVideoClassification(config)
    if with_processor:
        save_hub_folder(model, ViCLIPProcessor.for_model(image_size=32, num_frames=4), folder)
    else:
        model.save_pretrained(folder)  # config and weights only: the processor comes from its config
    shapes = []
    step = finetune_module.LayerDecayTrainer.training_step
    monkeypatch.setattr(
        finetune_module.LayerDecayTrainer,
        "training_step",
        lambda trainer, model, inputs, *rest: (
            shapes.append(tuple(inputs["pixel_values_videos"].shape)) or step(trainer, model, inputs, *rest)
        ),
    )
    out = tmp_path / "run"
    argv = ["finetune-classifier", "--train", str(synthetic_actions.train), "--labels", ",".join(LABELS),
            "--init-from", str(folder), "--output-dir", str(out), "--max-steps", "2",
            "--per-device-batch-size", "4", "--no-verify"]  # fmt: skip
    assert main(argv) == 0
    assert shapes and all(shape[1:] == (4, 3, 32, 32) for shape in shapes)
    from transformers import AutoProcessor

    assert AutoProcessor.from_pretrained(out).video_processor.num_frames == 4
