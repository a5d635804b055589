from __future__ import annotations

import itertools

import pytest
import torch

from viclip.training import build_optimizer, build_scheduler, cosine_lr_factor, param_groups


def test_param_groups_exclude_biases_1d_params_and_logit_scale_from_weight_decay(tiny_viclip):
    decay, no_decay = param_groups(tiny_viclip, weight_decay=0.2)
    names = {id(p): n for n, p in tiny_viclip.named_parameters()}
    decayed = {names[id(p)] for p in decay["params"]}
    not_decayed = {names[id(p)] for p in no_decay["params"]}
    assert decay["weight_decay"] == 0.2 and no_decay["weight_decay"] == 0.0
    assert "logit_scale" in not_decayed
    assert "vision_model.embeddings.class_embedding" in not_decayed
    assert "vision_model.encoder.layers.0.self_attn.q_proj.bias" in not_decayed
    assert "vision_model.post_layernorm.weight" in not_decayed
    assert "vision_model.encoder.layers.0.self_attn.q_proj.weight" in decayed
    assert "vision_model.embeddings.temporal_embedding" in decayed  # (1, T, D): a table, decayed
    assert "visual_projection.weight" in decayed
    assert decayed.isdisjoint(not_decayed)
    assert len(decayed) + len(not_decayed) == len(names)


def test_param_groups_leave_out_frozen_parameters(tiny_viclip):
    for param in tiny_viclip.text_model.parameters():
        param.requires_grad_(False)
    groups = param_groups(tiny_viclip, 0.2)
    kept = {id(p) for g in groups for p in g["params"]}
    assert not any(id(p) in kept for p in tiny_viclip.text_model.parameters())


def test_param_groups_reject_a_fully_frozen_model(tiny_viclip):
    tiny_viclip.requires_grad_(False)
    with pytest.raises(ValueError, match="no trainable parameters"):
        param_groups(tiny_viclip, 0.2)


def test_build_optimizer_uses_the_viclip_recipe(tiny_viclip):
    optimizer = build_optimizer(tiny_viclip)
    assert isinstance(optimizer, torch.optim.AdamW)
    assert optimizer.defaults["lr"] == 4e-4 and optimizer.defaults["betas"] == (0.9, 0.98)


def test_cosine_schedule_warms_up_peaks_and_ends_at_one_percent():
    factors = [cosine_lr_factor(s, warmup_steps=10, total_steps=110) for s in range(130)]
    assert factors[0] == pytest.approx(0.1)
    assert factors[9] == pytest.approx(1.0)
    assert factors[10] == pytest.approx(1.0)
    assert factors[60] == pytest.approx(0.01 + 0.99 * 0.5)
    assert factors[110] == pytest.approx(0.01)
    assert min(factors) == pytest.approx(0.01) and factors[129] == pytest.approx(0.01)
    assert all(a >= b for a, b in itertools.pairwise(factors[10:]))


def test_scheduler_steps_the_learning_rate(tiny_viclip):
    optimizer = build_optimizer(tiny_viclip, learning_rate=1.0)
    scheduler = build_scheduler(optimizer, warmup_steps=2, total_steps=4)
    lrs = []
    for _ in range(5):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert lrs == pytest.approx([0.5, 1.0, 1.0, 0.505, 0.01])


def test_scheduler_rejects_warmup_longer_than_training(tiny_viclip):
    with pytest.raises(ValueError, match="warmup_steps"):
        build_scheduler(build_optimizer(tiny_viclip), warmup_steps=5, total_steps=4)
