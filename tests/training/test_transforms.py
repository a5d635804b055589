"""RandomFramesTransform: the training transform without crop and flip, sharing the rest with ViCLIPExampleTransform."""

from __future__ import annotations

import torch

from viclip.data import ViCLIPExampleTransform
from viclip.processing import ViCLIPProcessor
from viclip.training.transforms import RandomFramesTransform


def _row(video_dir, caption="A Red-Circle, moves (left)!"):
    path = str(video_dir / "red.mp4")
    return {
        "video_path": path,
        "clip_start_sec": 0.0,
        "clip_end_sec": 2.0,
        "caption": caption,
        "row_index": 3,
    }


def test_random_frames_transform_cleans_captions_like_the_default_transform(video_dir):
    """Regression: its copy of __call__ tokenized the raw caption and ignored clean_captions."""
    processor = ViCLIPProcessor.for_model(image_size=32, num_frames=4)
    ours = RandomFramesTransform(processor, clean_captions=True, seed=0)(_row(video_dir))
    default = ViCLIPExampleTransform(processor, clean_captions=True, seed=0)(_row(video_dir))
    assert ours["caption"] == default["caption"] == "a red circle moves left"
    assert torch.equal(ours["input_ids"], default["input_ids"])


def test_random_frames_transform_samples_randomly_without_crop_or_flip(video_dir):
    processor = ViCLIPProcessor.for_model(image_size=32, num_frames=4)
    example = RandomFramesTransform(processor, seed=0)(_row(video_dir))
    expected = processor.video_processor(
        (str(video_dir / "red.mp4"), 0.0, 2.0),
        sampling="random",
        do_train_augmentation=False,
        seed=RandomFramesTransform(processor, seed=0)._example_seed(3),
        return_tensors="pt",
    )["pixel_values_videos"][0]
    assert example["pixel_values_videos"].shape == (4, 3, 32, 32)
    assert torch.equal(example["pixel_values_videos"], expected)
