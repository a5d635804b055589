"""The transformers video-classification pipeline on a real mp4, with the ViCLIP video processor (PyAV)."""

from __future__ import annotations

import pytest
import torch
from transformers import pipeline

from viclip import ViCLIPForVideoClassification, ViCLIPVideoProcessor
from viclip_testing import ASSETS

from .conftest import classifier_config

EXAMPLE_VIDEO = ASSETS / "example1.mp4"


@pytest.fixture(scope="module")
def classifier_folder(tmp_path_factory):
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("classifier")
    ViCLIPForVideoClassification(classifier_config()).save_pretrained(folder)
    ViCLIPVideoProcessor.for_model(image_size=32, num_frames=8).save_pretrained(folder)
    return folder


def test_pipeline_returns_the_top_labels_of_a_real_video(classifier_folder):
    classify = pipeline("video-classification", model=str(classifier_folder))
    assert isinstance(classify.video_processor, ViCLIPVideoProcessor)
    result = classify(str(EXAMPLE_VIDEO), top_k=3)

    model = ViCLIPForVideoClassification.from_pretrained(classifier_folder).eval()
    inputs = ViCLIPVideoProcessor.from_pretrained(classifier_folder)(str(EXAMPLE_VIDEO), return_tensors="pt")
    probs = model(**inputs).logits[0].softmax(-1)
    top = probs.topk(3)
    assert [r["label"] for r in result] == [model.config.id2label[i] for i in top.indices.tolist()]
    assert [r["score"] for r in result] == pytest.approx(top.values.tolist(), abs=1e-5)


def test_pipeline_top_k_is_capped_at_the_number_of_labels(classifier_folder):
    classify = pipeline("video-classification", model=str(classifier_folder))
    result = classify(str(EXAMPLE_VIDEO), top_k=10)
    assert sorted(r["label"] for r in result) == ["down", "left", "right", "up"]
    assert sum(r["score"] for r in result) == pytest.approx(1.0, abs=1e-5)
