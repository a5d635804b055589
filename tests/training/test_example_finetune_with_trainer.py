"""`examples/finetune_with_trainer.py` learns (issue 11 #11): its default run ended at loss = ln(batch) with
collapsed embeddings (20 steps, per-step decoding, flip augmentation against left/right captions, a zero temporal
table). Its Trainer recipe, run briefly on tiny learnable clips, must pull the embeddings apart and retrieve
held-out clips above chance."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest
from tiny_data import tiny_examples, tiny_model

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "finetune_with_trainer.py"


@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location("finetune_with_trainer", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_trainer_recipe_learns_and_retrieves_above_chance(example, tmp_path):
    model = tiny_model()
    metrics = example.train_and_evaluate(
        model, tiny_examples(32), tiny_examples(8, seed=1), pad_token_id=49407, output_dir=str(tmp_path),
        max_steps=30, batch_size=8, learning_rate=2e-3, weight_decay=0.05,
    )  # fmt: skip
    # Two clips per caption in every batch of these 4-class examples: the loss floor is ln(2), not 0.
    assert metrics["final_loss"] < 0.8 * math.log(8)
    assert metrics["t2v_R@1"] > metrics["chance_R@1"]
    assert metrics["mean_video_cosine"] < 0.99  # the collapsed run: 0.9996


def test_default_run_is_long_enough_and_keeps_left_and_right(example):
    args = example.build_parser().parse_args([])
    assert args.max_steps >= 300 and args.held_out_videos > 0
    assert args.learning_rate is None  # 5e-4 from scratch
