"""Fixtures for the classification tests: a tiny labelled synthetic set and a tiny classifier config."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from viclip import ViCLIPConfig
from viclip.classification import SyntheticActionLists, write_synthetic_action_dataset
from viclip_testing import tiny_dev_config

LABELS = ("left", "right", "up", "down")


def classifier_config(num_labels: int = 4, **kwargs) -> ViCLIPConfig:
    """The tiny-dev ViCLIP config with a label set (image 32, patch 8, 8 frames)."""
    config = tiny_dev_config()
    labels = LABELS[:num_labels] if num_labels <= len(LABELS) else [f"class_{i}" for i in range(num_labels)]
    config.update(
        {
            "num_labels": num_labels,
            "id2label": dict(enumerate(labels)),
            "label2id": {label: i for i, label in enumerate(labels)},
            **kwargs,
        }
    )
    return config


@pytest.fixture(scope="session")
def synthetic_actions(tmp_path_factory) -> SyntheticActionLists:
    """4 videos (3 train, 1 held out) of 4 clips of 8 frames at 32x32."""
    return write_synthetic_action_dataset(
        tmp_path_factory.mktemp("actions"),
        num_videos=4,
        held_out_videos=1,
        clips_per_video=4,
        frames_per_clip=8,
        size=32,
        progress=False,
    )


@pytest.fixture
def class_folders(tmp_path, synthetic_actions) -> Path:
    """A class-per-folder tree: root/<label>/<video>.mp4, plus a stray non-video file."""
    video = next((synthetic_actions.train.parent / "videos").glob("*.mp4"))
    root = tmp_path / "folders"
    for label, count in (("jump", 2), ("run", 1)):
        (root / label).mkdir(parents=True)
        for i in range(count):
            shutil.copy(video, root / label / f"{label}{i}.mp4")
    (root / "run" / "notes.txt").write_text("not a video")
    return root
