from __future__ import annotations

import itertools

import pytest
import torch

from viclip.training import build_optimizer, build_scheduler, cosine_lr_factor, layer_id, param_groups


def test_param_groups_exclude_biases_1d_params_logit_scale_and_embeddings_from_weight_decay(tiny_viclip):
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
    # The original no_weight_decay(): temperature and the embedding tables of both towers.
    assert "vision_model.embeddings.temporal_embedding" in not_decayed
    assert "vision_model.embeddings.position_embedding.weight" in not_decayed
    assert "text_model.embeddings.token_embedding.weight" in not_decayed
    assert "vision_model.embeddings.patch_embedding.weight" in decayed
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


def test_layer_ids_run_from_embeddings_to_head():
    assert layer_id("vision_model.embeddings.patch_embedding.weight", 2) == 0
    assert layer_id("model.vision_model.pre_layernorm.weight", 2) == 0  # wrapped in ContrastiveTrainingModule
    assert layer_id("vision_model.encoder.layers.0.mlp.fc1.weight", 2) == 1
    assert layer_id("vision_model.encoder.layers.1.self_attn.q_proj.bias", 2) == 2
    assert layer_id("vision_model.post_layernorm.weight", 2) == 3
    assert layer_id("classifier.weight", 2) == 3


def test_layer_decay_scales_lr_by_depth_with_the_same_no_decay_rule(tiny_viclip):
    groups = param_groups(tiny_viclip, weight_decay=0.05, learning_rate=1.0, layer_decay=0.5)
    lr_of = {id(p): (g["lr"], g["weight_decay"]) for g in groups for p in g["params"]}
    params = dict(tiny_viclip.named_parameters())
    assert lr_of[id(params["visual_projection.weight"])] == (1.0, 0.05)
    assert lr_of[id(params["logit_scale"])] == (1.0, 0.0)
    assert lr_of[id(params["vision_model.encoder.layers.1.mlp.fc1.weight"])] == (0.5, 0.05)
    assert lr_of[id(params["vision_model.encoder.layers.0.layer_norm1.weight"])] == (0.25, 0.0)
    assert lr_of[id(params["vision_model.embeddings.patch_embedding.weight"])] == (0.125, 0.05)
    assert lr_of[id(params["vision_model.embeddings.temporal_embedding"])] == (0.125, 0.0)
    assert sum(len(g["params"]) for g in groups) == len(params)
    _, not_decayed = param_groups(tiny_viclip, weight_decay=0.05)
    assert {id(p) for p in not_decayed["params"]} == {key for key, (_, wd) in lr_of.items() if wd == 0.0}
