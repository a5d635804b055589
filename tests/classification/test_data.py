"""Labelled video lists and class folders through datasets: labels, skip accounting, transforms, collation."""

from __future__ import annotations

import csv
import json

import datasets
import pytest
import torch

from viclip.classification import (
    VideoClassificationCollator,
    load_video_classification_dataset,
    prepare_for_training,
)
from viclip.processing import ViCLIPVideoProcessor

from .conftest import LABELS


@pytest.fixture(scope="module")
def processor() -> ViCLIPVideoProcessor:
    return ViCLIPVideoProcessor.for_model(image_size=32, num_frames=8)


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _write_csv(path, rows):
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["path", "start_sec", "end_sec", "label"])
        writer.writeheader()
        writer.writerows(rows)


def test_csv_list_becomes_a_dataset_with_class_labels_and_times(synthetic_actions):
    data = load_video_classification_dataset(synthetic_actions.train, LABELS)
    rows = _rows(synthetic_actions.train)
    assert len(data.dataset) == len(rows) == 12
    assert isinstance(data.dataset.features["label"], datasets.ClassLabel)
    assert data.dataset.features["label"].names == list(LABELS)
    assert data.id2label == dict(enumerate(LABELS))
    first = data.dataset[0]
    assert first["start_sec"] == pytest.approx(float(rows[0]["start_sec"]))
    assert first["end_sec"] == pytest.approx(float(rows[0]["end_sec"]))
    assert LABELS[first["label"]] == rows[0]["label"]
    assert first["path"].endswith(rows[0]["path"].split("/")[-1])
    assert data.stats.skipped() == {}


def test_default_labels_are_the_sorted_distinct_labels(synthetic_actions):
    data = load_video_classification_dataset(synthetic_actions.train, verify=False)
    assert data.labels == sorted({row["label"] for row in _rows(synthetic_actions.train)})


def test_jsonl_list_with_whole_videos(synthetic_actions, tmp_path):
    video = synthetic_actions.train.parent / _rows(synthetic_actions.train)[0]["path"]
    listing = tmp_path / "list.jsonl"
    listing.write_text(
        "\n".join(json.dumps({"path": str(video), "label": label}) for label in ("a", "b")) + "\n"
    )
    data = load_video_classification_dataset(listing)
    assert data.labels == ["a", "b"]
    assert data.dataset[1]["start_sec"] is None and data.dataset[1]["end_sec"] is None


def test_missing_and_corrupt_videos_are_skipped_and_counted(synthetic_actions, tmp_path):
    rows = _rows(synthetic_actions.train)[:3]
    for row in rows:
        row["path"] = str(synthetic_actions.train.parent / row["path"])
    (tmp_path / "corrupt.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 this is not a video" * 20)
    rows.append({"path": "missing.mp4", "start_sec": "", "end_sec": "", "label": "left"})
    rows.append({"path": "corrupt.mp4", "start_sec": "", "end_sec": "", "label": "up"})
    _write_csv(tmp_path / "list.csv", rows)

    data = load_video_classification_dataset(tmp_path / "list.csv", LABELS)
    assert len(data.dataset) == 3
    assert data.stats.skipped() == {"missing_video": 1, "corrupt_video": 1}
    assert data.stats.num_examples == 3


def test_videos_failing_at_training_time_are_dropped_by_the_collator_and_counted(
    synthetic_actions, tmp_path, processor
):
    good = _rows(synthetic_actions.train)[0]
    good["path"] = str(synthetic_actions.train.parent / good["path"])
    (tmp_path / "corrupt.mp4").write_bytes(b"garbage" * 100)
    _write_csv(
        tmp_path / "list.csv", [good, {"path": "corrupt.mp4", "start_sec": "", "end_sec": "", "label": "up"}]
    )
    data = load_video_classification_dataset(tmp_path / "list.csv", LABELS, verify=False)
    assert len(data.dataset) == 2

    train = prepare_for_training(data, processor, training=True)
    examples = [train[0], train[1]]
    assert examples[1]["pixel_values_videos"] is None
    assert data.stats.skipped() == {"corrupt_video": 1}
    batch = VideoClassificationCollator()(examples)
    assert batch["pixel_values_videos"].shape == (1, 8, 3, 32, 32)
    assert batch["labels"].tolist() == [LABELS.index(good["label"])]
    with pytest.raises(RuntimeError, match="every video of a batch of 1 failed"):
        VideoClassificationCollator()([examples[1]])


def test_class_per_folder_layout(class_folders):
    data = load_video_classification_dataset(class_folders)
    assert data.labels == ["jump", "run"]
    assert sorted(data.dataset["label"]) == [0, 0, 1]
    assert all(path.endswith(".mp4") for path in data.dataset["path"])


def test_train_and_multi_view_eval_transforms(synthetic_actions, processor):
    data = load_video_classification_dataset(synthetic_actions.eval, LABELS)
    train = prepare_for_training(data, processor, training=True)[0]
    assert train["pixel_values_videos"].shape == (8, 3, 32, 32)
    assert train["labels"] == data.dataset[0]["label"]
    single = prepare_for_training(data, processor, training=False)[0]
    expected = processor(
        {
            "path": data.dataset[0]["path"],
            "start_sec": data.dataset[0]["start_sec"],
            "end_sec": data.dataset[0]["end_sec"],
        },
        return_tensors="pt",
    )["pixel_values_videos"][0]
    torch.testing.assert_close(single["pixel_values_videos"], expected)
    views = prepare_for_training(data, processor, training=False, num_clips=2, num_crops=3)[0]
    assert views["pixel_values_videos"].shape == (6, 8, 3, 32, 32)
    batch = VideoClassificationCollator()([views, views])
    assert batch["pixel_values_videos"].shape == (2, 6, 8, 3, 32, 32)


def test_unknown_label_is_a_clear_error(synthetic_actions):
    with pytest.raises(ValueError, match=r"label 'left', which is not one of the 2 classes"):
        load_video_classification_dataset(synthetic_actions.train, ["up", "down"], verify=False)


def test_missing_source_and_empty_folder_are_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such list file or folder"):
        load_video_classification_dataset(tmp_path / "nope.csv")
    with pytest.raises(ValueError, match="no class sub-folders"):
        load_video_classification_dataset(tmp_path)


def test_multi_view_is_rejected_for_training(synthetic_actions, processor):
    data = load_video_classification_dataset(synthetic_actions.eval, LABELS, verify=False)
    with pytest.raises(ValueError, match="evaluation transform"):
        prepare_for_training(data, processor, training=True, num_clips=2)
