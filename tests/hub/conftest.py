"""Fixtures of the Hub-folder tests: a tiny video classifier."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_classifier(tiny_model):
    import torch

    from viclip import ViCLIPForVideoClassification

    torch.manual_seed(0)
    config = tiny_model.config.__class__.from_dict(
        {
            **tiny_model.config.to_dict(),
            "id2label": {0: "left", 1: "right"},
            "label2id": {"left": 0, "right": 1},
        }
    )
    return ViCLIPForVideoClassification(config).eval()
