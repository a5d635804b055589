"""The transformers video-classification pipeline on a real mp4, with the ViCLIP video processor (PyAV)."""

from __future__ import annotations

import pytest
import torch
from transformers import pipeline

from viclip import ViCLIPForVideoClassification, ViCLIPVideoProcessor
from viclip.processing import VideoClip, read_video_clip
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


@pytest.mark.parametrize(
    "clip",
    [
        {"path": str(EXAMPLE_VIDEO), "start_sec": 2.0, "end_sec": 5.0},
        (str(EXAMPLE_VIDEO), 2.0, 5.0),
        VideoClip(EXAMPLE_VIDEO, 2.0, 5.0),
    ],
    ids=["dict", "tuple", "VideoClip"],
)
def test_pipeline_reads_the_clip_times_in_every_spelling(classifier_folder, clip):
    classify = pipeline("video-classification", model=str(classifier_folder))
    model = ViCLIPForVideoClassification.from_pretrained(classifier_folder).eval()
    processor = ViCLIPVideoProcessor.from_pretrained(classifier_folder)
    frames, _ = read_video_clip(EXAMPLE_VIDEO, 2.0, 5.0, num_frames=8)
    expected = model(**processor(frames, return_tensors="pt")).logits[0].softmax(-1)
    result = classify(clip, top_k=4)
    assert {r["label"]: r["score"] for r in result} == pytest.approx(
        {model.config.id2label[i]: p for i, p in enumerate(expected.tolist())}, abs=1e-5
    )


def test_pipeline_rejects_a_clip_dict_with_an_unknown_key(classifier_folder):
    # Regression: {"path", "start", "end"} was classified as the whole video, silently.
    classify = pipeline("video-classification", model=str(classifier_folder))
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['end', 'start'\]"):
        classify({"path": str(EXAMPLE_VIDEO), "start": 2.0, "end": 5.0})
