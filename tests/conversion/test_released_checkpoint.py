"""Opt-in: the real ViCLIP-L/14 InternVid-10M-FLT release reproduces the published demo probabilities.

Skipped unless VICLIP_CHECKPOINT names the released file (ViClip-InternVid-10M-FLT.pth); it cannot be downloaded
in the test environment and is never faked.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from transformers import AutoModel, AutoProcessor

from viclip.conversion import convert_checkpoint
from viclip.demo import original_demo_probabilities
from viclip.hub.model_card import RELEASES
from viclip_testing import ASSETS

CHECKPOINT = os.environ.get("VICLIP_CHECKPOINT")


@pytest.mark.skipif(not CHECKPOINT, reason="set VICLIP_CHECKPOINT to the released ViCLIP-L/14 10M-FLT .pth")
def test_released_l14_reproduces_the_published_demo_top5(tmp_path):
    result = convert_checkpoint(Path(CHECKPOINT), tmp_path / "viclip-l14", size="l", progress=False)
    assert result.preset == "viclip-l14" and result.num_parameters == 427_590_145
    model = AutoModel.from_pretrained(result.output_dir).eval()
    processor = AutoProcessor.from_pretrained(result.output_dir)
    top = original_demo_probabilities(model, processor, ASSETS / "example1.mp4").topk(5)
    published = RELEASES["l14-internvid-10m-flt"].results.demo_top5
    assert top.indices.tolist() == [index for index, _ in published]
    for prob, (_, expected) in zip(top.values.tolist(), published):
        assert abs(prob - expected) <= 0.005
