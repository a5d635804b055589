"""ViCLIPForVideoClassification: loading from ViCLIP, losses, multi-view, save/reload, Auto registration."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from transformers import AutoModelForVideoClassification

from viclip import ViCLIPForVideoClassification, ViCLIPModel
from viclip_testing import tiny_dev_config

from .conftest import classifier_config

VIDEO_SHAPE = (8, 3, 32, 32)


@pytest.fixture(scope="module")
def viclip_folder(tmp_path_factory):
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("viclip")
    ViCLIPModel(tiny_dev_config()).save_pretrained(folder)
    return folder


@pytest.fixture
def classifier() -> ViCLIPForVideoClassification:
    torch.manual_seed(0)
    return ViCLIPForVideoClassification(classifier_config()).eval()


def test_loading_a_viclip_checkpoint_reports_only_the_head_as_new_and_the_text_side_as_unused(viclip_folder):
    model, info = ViCLIPForVideoClassification.from_pretrained(
        viclip_folder, num_labels=3, output_loading_info=True
    )
    assert sorted(info["missing_keys"]) == ["classifier.bias", "classifier.weight"]
    unexpected = set(info["unexpected_keys"])
    assert {"logit_scale", "text_projection.weight"} <= unexpected
    assert unexpected - {"logit_scale", "text_projection.weight"} == {
        k for k in ViCLIPModel.from_pretrained(viclip_folder).state_dict() if k.startswith("text_model.")
    }
    assert not info["mismatched_keys"] and not info["error_msgs"]
    assert model.config.num_labels == 3 and model.classifier.out_features == 3


def test_classifier_embedding_is_the_viclip_video_embedding(viclip_folder):
    viclip = ViCLIPModel.from_pretrained(viclip_folder).eval()
    model = ViCLIPForVideoClassification.from_pretrained(viclip_folder, num_labels=2).eval()
    videos = torch.randn(2, *VIDEO_SHAPE)
    expected = viclip.get_video_features(pixel_values_videos=videos).pooler_output
    got = model.visual_projection(model.vision_model(pixel_values_videos=videos).pooler_output)
    torch.testing.assert_close(got, expected)


def test_single_label_loss_is_cross_entropy_of_the_logits(classifier):
    videos, labels = torch.randn(3, *VIDEO_SHAPE), torch.tensor([0, 3, 1])
    out = classifier(pixel_values_videos=videos, labels=labels)
    assert out.logits.shape == (3, 4)
    torch.testing.assert_close(out.loss, F.cross_entropy(out.logits, labels))
    assert classifier.config.problem_type == "single_label_classification"


def test_multi_label_loss_is_binary_cross_entropy():
    model = ViCLIPForVideoClassification(classifier_config(problem_type="multi_label_classification")).eval()
    videos, targets = torch.randn(2, *VIDEO_SHAPE), torch.tensor([[1.0, 0, 1, 0], [0, 0, 0, 1]])
    out = model(pixel_values_videos=videos, labels=targets)
    torch.testing.assert_close(out.loss, F.binary_cross_entropy_with_logits(out.logits, targets))


def test_multi_view_input_averages_the_logits_of_the_views(classifier):
    views = torch.randn(2, 3, *VIDEO_SHAPE)
    out = classifier(pixel_values_videos=views)
    per_view = classifier(pixel_values_videos=views.flatten(0, 1)).logits.view(2, 3, -1)
    torch.testing.assert_close(out.logits, per_view.mean(dim=1))


def test_head_starts_small_so_initial_loss_is_near_log_num_labels():
    torch.manual_seed(0)
    model = ViCLIPForVideoClassification(classifier_config()).eval()
    out = model(pixel_values_videos=torch.randn(8, *VIDEO_SHAPE), labels=torch.arange(8) % 4)
    assert abs(out.loss.item() - torch.log(torch.tensor(4.0)).item()) < 0.3


def test_save_and_reload_through_auto_keeps_labels_and_weights(classifier, tmp_path):
    classifier.save_pretrained(tmp_path)
    reloaded = AutoModelForVideoClassification.from_pretrained(tmp_path).eval()
    assert type(reloaded) is ViCLIPForVideoClassification
    assert reloaded.config.id2label == {0: "left", 1: "right", 2: "up", 3: "down"}
    assert reloaded.config.label2id["down"] == 3
    videos = torch.randn(1, *VIDEO_SHAPE)
    torch.testing.assert_close(
        reloaded(pixel_values_videos=videos).logits, classifier(pixel_values_videos=videos).logits
    )
    assert not any(k.startswith("text_model.") for k in reloaded.state_dict())


def test_config_exposes_num_frames_for_the_pipeline(classifier):
    assert classifier.config.num_frames == classifier.config.vision_config.num_frames == 8


def test_gradient_checkpointing_gives_the_same_gradients(classifier):
    videos, labels = torch.randn(2, *VIDEO_SHAPE), torch.tensor([1, 2])
    classifier.train()
    classifier(pixel_values_videos=videos, labels=labels).loss.backward()
    plain = classifier.vision_model.embeddings.patch_embedding.weight.grad.clone()
    classifier.zero_grad()
    classifier.activation_checkpointing_enable()
    classifier(pixel_values_videos=videos, labels=labels).loss.backward()
    torch.testing.assert_close(classifier.vision_model.embeddings.patch_embedding.weight.grad, plain)


def test_missing_pixel_values_is_a_clear_error(classifier):
    with pytest.raises(ValueError, match="pixel_values_videos"):
        classifier(labels=torch.tensor([0]))
