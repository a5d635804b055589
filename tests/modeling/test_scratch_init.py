"""From-scratch initialisation of the temporal table."""

from __future__ import annotations

import pytest
import torch

from viclip import ViCLIPForVideoClassification, ViCLIPModel
from viclip.modeling.scratch_init import randomize_temporal_embedding
from viclip_testing import tiny_config


def test_the_original_init_is_zero_and_from_scratch_init_is_small_random():
    torch.manual_seed(0)
    model = ViCLIPModel(tiny_config())
    table = model.vision_model.embeddings.temporal_embedding
    assert torch.count_nonzero(table) == 0  # the original zero-initialises it (it starts from CLIP)
    randomize_temporal_embedding(model)
    assert table.std().item() == pytest.approx(0.02, rel=0.1)
    # every frame now differs, so frames are no longer interchangeable
    assert torch.cdist(table[0], table[0]).add(torch.eye(8)).min() > 0


def test_it_reaches_the_table_of_a_classifier_too():
    config = tiny_config()
    config.num_labels = 2
    model = ViCLIPForVideoClassification(config)
    randomize_temporal_embedding(model, std=0.5)
    assert model.vision_model.embeddings.temporal_embedding.std().item() == pytest.approx(0.5, rel=0.2)


def test_a_model_without_temporal_table_is_refused():
    with pytest.raises(ValueError, match="Linear has no temporal embedding"):
        randomize_temporal_embedding(torch.nn.Linear(2, 2))
