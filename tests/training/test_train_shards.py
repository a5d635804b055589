"""Training from prepared shards (`train_shards`): the loss goes down, and the command line takes the flag."""

from __future__ import annotations

import pytest
from accelerate.state import AcceleratorState
from tiny_data import REGULARISATION, tiny_model, tiny_train_config

from viclip.data.prepare_shard import PrepareSettings, prepare_shard, write_json_atomic
from viclip.data.prepared_format import CONFIG_FILE
from viclip.data.synthetic import generate_synthetic_internvid
from viclip.training import train
from viclip.training.config import ConfigError, TrainingConfig
from viclip_cli import main


@pytest.fixture(autouse=True)
def reset_accelerate():
    yield
    AcceleratorState._reset_state(reset_partial_state=True)


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    """Eight synthetic clips prepared into two shard files (``prepare_shard`` directly: no Ray needed)."""
    root = tmp_path_factory.mktemp("shards")
    source = generate_synthetic_internvid(
        root / "source", num_videos=4, clips_per_video=2, seconds=2.0, size=48, fps=8, seed=0, progress=False
    )
    lines = source.annotations.read_text().splitlines()
    settings = PrepareSettings(video_root=str(source.video_dir), num_frames=4, short_side=40)
    for shard in range(2):
        rows = [(i, {"text": lines[i]}) for i in range(4 * shard, 4 * shard + 4)]
        assert prepare_shard(shard, rows, settings, root / "prepared")["rows_written"] == 4
    # What prepare_internvid records before its first shard: load_prepared reads the frame count back from it.
    write_json_atomic(root / "prepared" / CONFIG_FILE, {"settings": settings.to_dict()})
    return root / "prepared"


def test_training_from_prepared_shards_lowers_the_loss(tmp_path, shards):
    config = tiny_train_config(
        tmp_path, train_shards=str(shards), per_device_batch_size=8, max_steps=10, learning_rate=2e-3,
        shuffle_buffer=4,
    )  # fmt: skip
    result = train(config, model=tiny_model(**REGULARISATION))
    losses = [row["loss"] for row in result.history if "loss" in row]
    assert len(losses) == 10
    assert sum(losses[-3:]) / 3 < 0.75 * sum(losses[:3]) / 3, losses


def test_train_shards_and_train_annotations_are_exclusive(tmp_path):
    with pytest.raises(ConfigError, match="at most one of train_shards, train_annotations, train_clips"):
        TrainingConfig(output_dir=str(tmp_path), train_shards="prepared/", train_annotations="rows.jsonl")


def test_command_line_takes_train_shards(capsys):
    assert main(["train", "--config", "synthetic_cpu", "--train_shards", "prepared/", "--print-config"]) == 0
    assert '"train_shards": "prepared/"' in capsys.readouterr().out


def test_shards_prepared_for_another_frame_count_than_the_model_are_refused(tmp_path, shards):
    from viclip import ViCLIPModel
    from viclip_testing import tiny_config

    model = ViCLIPModel(tiny_config(num_frames=8, **REGULARISATION))
    config = tiny_train_config(tmp_path, train_shards=str(shards), max_steps=1)
    with pytest.raises(ValueError, match="prepared for 4 frames per clip but the processor gives 8"):
        train(config, model=model)
