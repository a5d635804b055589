"""The README's main job (`viclip demo`): its building blocks and its command line."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from viclip.data.synthetic import DIRECTIONS, caption_for, generate_synthetic_internvid
from viclip.demo import direction_accuracy, example_video_path, read_held_out_clips
from viclip.training import TrainingConfig
from viclip_cli import main


def test_demo_config_is_a_builtin_training_config():
    config = TrainingConfig.from_file("synthetic_cpu")
    assert config.synthetic["held_out_videos"] > 0
    assert config.augment is False  # a horizontal flip would swap left and right
    assert config.max_steps == 600


def test_held_out_rows_are_joined_to_their_videos(tmp_path):
    data = generate_synthetic_internvid(
        tmp_path, num_videos=3, clips_per_video=2, seconds=2.0, size=32, held_out_videos=1, progress=False
    )
    clips = read_held_out_clips(data.held_out_annotations, data.video_dir)
    assert len(clips) == data.num_held_out_clips == 2
    for clip in clips:
        assert clip.caption == caption_for(clip.color, clip.shape, clip.direction)
        assert clip.clip.path.endswith(".mp4") and clip.clip.start_sec < clip.clip.end_sec


class DirectionEncoder:
    """Text embedding = one-hot of the direction word; knows nothing else."""

    def encode_text(self, texts: list[str]) -> torch.Tensor:
        return torch.stack(
            [F.one_hot(torch.tensor(DIRECTIONS.index(t.split()[-1])), 4).float() for t in texts]
        )


def test_direction_accuracy_scores_the_caption_among_the_four_directions(tmp_path):
    data = generate_synthetic_internvid(
        tmp_path, num_videos=2, clips_per_video=4, seconds=2.0, size=32, held_out_videos=1, progress=False
    )
    clips = read_held_out_clips(data.held_out_annotations, data.video_dir)
    right = torch.stack([F.one_hot(torch.tensor(DIRECTIONS.index(c.direction)), 4).float() for c in clips])
    assert direction_accuracy(DirectionEncoder(), clips, right) == 100.0
    wrong = right.roll(1, dims=1)  # every clip embedded as the next direction
    assert direction_accuracy(DirectionEncoder(), clips, wrong) == 0.0


def test_the_original_demo_video_ships_with_the_package():
    assert example_video_path().is_file()
    assert example_video_path().stat().st_size == 608_283


def test_missing_checkpoint_is_one_clear_error(tmp_path, capsys):
    assert (
        main(["demo", "--checkpoint", str(tmp_path / "nope.pth"), "--output-dir", str(tmp_path / "out")]) == 2
    )
    assert f"checkpoint '{tmp_path / 'nope.pth'}' does not exist" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_original_demo_path_gives_a_distribution_over_the_ten_captions():
    """Random tiny weights: the code path only (the published numbers need the real weights, see
    tests/conversion/test_released_checkpoint.py)."""
    from viclip import ViCLIPModel, ViCLIPProcessor
    from viclip.demo import original_demo_probabilities
    from viclip_testing import tiny_config

    torch.manual_seed(0)
    probabilities = original_demo_probabilities(ViCLIPModel(tiny_config()).eval(), ViCLIPProcessor())
    assert probabilities.shape == (10,)
    assert (probabilities > 0).all()
    torch.testing.assert_close(probabilities.sum(), torch.tensor(1.0))
