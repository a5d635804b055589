from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from tiny_data import tiny_batch

from viclip.training import ContrastiveTrainingModule, gather_features, gathered_contrastive_loss


def test_contrastive_loss_matches_the_model_loss_in_one_process(tiny_viclip):
    batch = tiny_batch(6)
    expected = tiny_viclip(**batch, return_loss=True).loss
    loss, logits = gathered_contrastive_loss(*ContrastiveTrainingModule(tiny_viclip)(**batch))
    torch.testing.assert_close(loss, expected, atol=1e-6, rtol=1e-6)
    assert logits.shape == (6, 6)


def test_contrastive_loss_is_log_batch_for_identical_features():
    features = F.normalize(torch.ones(5, 8), dim=-1)
    loss, _ = gathered_contrastive_loss(features, features, torch.tensor(100.0))
    assert loss.item() == pytest.approx(math.log(5), rel=1e-6)


def test_contrastive_loss_is_near_zero_for_perfectly_matched_pairs():
    features = torch.eye(4)
    loss, logits = gathered_contrastive_loss(features, features.clone(), torch.tensor(100.0))
    assert loss.item() < 1e-30 or loss.item() == pytest.approx(0.0, abs=1e-30)
    assert torch.equal(logits.argmax(dim=1), torch.arange(4))


def test_gather_features_is_identity_without_a_process_group():
    video, text = torch.randn(3, 4), torch.randn(3, 4)
    out_video, out_text = gather_features(video, text)
    assert out_video is video and out_text is text


def test_contrastive_loss_rejects_mismatched_features():
    with pytest.raises(ValueError, match=r"\(4, 8\) and \(3, 8\)"):
        gathered_contrastive_loss(torch.randn(4, 8), torch.randn(3, 8), torch.tensor(1.0))


def test_training_module_clamps_the_logit_scale(tiny_viclip):
    with torch.no_grad():
        tiny_viclip.logit_scale.fill_(10.0)
    _, _, scale = ContrastiveTrainingModule(tiny_viclip)(**tiny_batch(2))
    assert scale.item() == pytest.approx(math.exp(tiny_viclip.config.logit_scale_max), rel=1e-5)
