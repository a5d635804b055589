from __future__ import annotations

import pytest
import torch

from viclip.training import ViCLIPDataCollator


def _example(length: int) -> dict:
    return {"pixel_values_videos": torch.zeros(2, 3, 8, 8), "input_ids": list(range(1, length + 1)),
            "attention_mask": [1] * length, "caption": "x"}  # fmt: skip


def test_collator_stacks_videos_pads_texts_and_asks_for_the_loss():
    batch = ViCLIPDataCollator(pad_token_id=0)([_example(3), _example(5)])
    assert batch["pixel_values_videos"].shape == (2, 2, 3, 8, 8)
    assert batch["input_ids"].tolist() == [[1, 2, 3, 0, 0], [1, 2, 3, 4, 5]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]
    assert batch["return_loss"] is True and "caption" not in batch


def test_collator_keeps_requested_keys_and_can_omit_return_loss():
    batch = ViCLIPDataCollator(return_loss=False, keep_keys=("caption",))([_example(2)])
    assert "return_loss" not in batch and batch["caption"] == ["x"]


def test_collator_rejects_videos_of_different_shapes():
    other = _example(2) | {"pixel_values_videos": torch.zeros(4, 3, 8, 8)}
    with pytest.raises(ValueError, match="differ in shape"):
        ViCLIPDataCollator()([_example(2), other])


def test_collator_names_missing_keys():
    with pytest.raises(ValueError, match="example 0 has no input_ids"):
        ViCLIPDataCollator()([{"pixel_values_videos": torch.zeros(1)}])
