"""ViCLIPModel behaviour: frame counts, masking, loss, gradient checkpointing, saving and loading."""

from __future__ import annotations

import math

import pytest
import torch

from viclip import (
    ViCLIPModel,
    ViCLIPTextModelWithProjection,
    ViCLIPVisionModel,
    ViCLIPVisionModelWithProjection,
)
from viclip_testing import tiny_config


def make_model(seed: int = 0, **vision_overrides) -> ViCLIPModel:
    torch.manual_seed(seed)
    return ViCLIPModel(tiny_config(**vision_overrides)).eval()


def random_batch(batch_size: int = 4, num_frames: int = 8, seed: int = 0) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    input_ids = torch.randint(1, 49000, (batch_size, 12), generator=generator)
    input_ids[:, 0] = 49406
    input_ids[:, -1] = 49407
    return {
        "pixel_values_videos": torch.randn(batch_size, num_frames, 3, 32, 32, generator=generator),
        "input_ids": input_ids,
        "attention_mask": torch.ones_like(input_ids),
    }


def test_sdpa_is_the_default_attention_and_matches_eager():
    model = make_model()
    assert model.config._attn_implementation == "sdpa"
    batch = random_batch()
    with torch.no_grad():
        sdpa = model(**batch)
        model.set_attn_implementation("eager")
        eager = model(**batch)
    torch.testing.assert_close(sdpa.video_embeds, eager.video_embeds, atol=1e-5, rtol=0)
    torch.testing.assert_close(sdpa.text_embeds, eager.text_embeds, atol=1e-5, rtol=0)
    torch.testing.assert_close(
        sdpa.logits_per_video, eager.logits_per_video, atol=1e-4, rtol=1e-5
    )  # scaled by 100
    torch.testing.assert_close(
        sdpa.vision_model_output.last_hidden_state,
        eager.vision_model_output.last_hidden_state,
        atol=1e-5,
        rtol=0,
    )


def test_vision_tokens_are_cls_then_patches_by_frame():
    model = make_model()
    with torch.no_grad():
        out = model.vision_model(pixel_values_videos=torch.randn(2, 8, 3, 32, 32))
    assert out.last_hidden_state.shape == (2, 1 + 16 * 8, 64)
    assert out.pooler_output.shape == (2, 64)


def test_more_frames_interpolate_the_temporal_table_and_fewer_take_its_first_rows():
    model = make_model()
    embeddings = model.vision_model.embeddings
    with torch.no_grad():
        embeddings.temporal_embedding.copy_(torch.arange(8.0).view(1, 8, 1).expand(1, 8, 64))
    assert torch.equal(embeddings.temporal_table(4)[0, :, 0], torch.arange(4.0))
    assert torch.equal(embeddings.temporal_table(1)[0, :, 0], torch.tensor([3.5]))
    expected_16 = torch.nn.functional.interpolate(torch.arange(8.0).view(1, 1, 8), size=16, mode="linear")
    torch.testing.assert_close(embeddings.temporal_table(16)[0, :, 0], expected_16.view(16))
    with torch.no_grad():
        for num_frames in (1, 4, 16):
            out = model.get_video_features(pixel_values_videos=torch.randn(1, num_frames, 3, 32, 32))
            assert out.pooler_output.shape == (1, 32)
            assert out.last_hidden_state.shape == (1, 1 + 16 * num_frames, 64)


def test_masking_drops_int_ratio_times_patches_only_in_training_mode():
    model = make_model(mask_ratio=0.9)
    videos = torch.randn(2, 8, 3, 32, 32)
    num_patches = 16 * 8
    kept = num_patches - int(0.9 * num_patches) + 1  # the original drops int(ratio * L) tokens and keeps CLS
    model.train()
    assert model.vision_model(pixel_values_videos=videos).last_hidden_state.shape == (2, kept, 64)
    model.eval()
    assert model.vision_model(pixel_values_videos=videos).last_hidden_state.shape == (2, 1 + num_patches, 64)


def test_masking_keeps_the_surviving_tokens_in_order():
    model = make_model()
    embeddings = model.vision_model.embeddings
    tokens = torch.arange(20.0).view(1, 20, 1).repeat(3, 1, 2)
    kept = embeddings.random_masking(tokens, 0.5)
    assert kept.shape == (3, 10, 2)
    for row in kept[:, :, 0]:
        assert torch.all(row[1:] > row[:-1])


def test_loss_is_symmetric_infonce():
    model = make_model()
    with torch.no_grad():
        out = model(**random_batch(), return_loss=True)
    targets = torch.arange(4)
    ce = torch.nn.functional.cross_entropy
    expected = (ce(out.logits_per_video, targets) + ce(out.logits_per_text, targets)) / 2
    torch.testing.assert_close(out.loss, expected)


def test_logit_scale_is_clamped_like_the_original_temperature():
    model = make_model()
    with torch.no_grad():
        model.logit_scale.fill_(10.0)
        out = model(**random_batch())
    cosine = out.video_embeds @ out.text_embeds.t()
    torch.testing.assert_close(out.logits_per_video, cosine * 100.0, atol=1e-4, rtol=1e-5)


def test_loss_decreases_over_a_few_optimizer_steps():
    model = make_model()
    with torch.no_grad():
        model.logit_scale.fill_(math.log(1 / 0.07))  # CLIP's from-scratch temperature
    model.train()
    batch = random_batch(batch_size=6)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(30):
        loss = model(**batch, return_loss=True).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    # Collapsing every embedding onto one point gives log(6); learning the pairs goes well below it.
    assert losses[-1] < 0.5 * math.log(6) < losses[0]


def test_gradient_checkpointing_gives_the_same_gradients():
    batch = random_batch()

    def gradients(checkpointing: bool) -> dict[str, torch.Tensor]:
        model = make_model(seed=1)
        model.train()
        if checkpointing:
            model.activation_checkpointing_enable()
        model(**batch, return_loss=True).loss.backward()
        return {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}

    plain, checkpointed = gradients(False), gradients(True)
    assert plain.keys() == checkpointed.keys()
    assert len(plain) == len(list(make_model().parameters()))
    for name in plain:
        torch.testing.assert_close(plain[name], checkpointed[name], atol=1e-6, rtol=1e-5, msg=name)


def test_drop_path_rises_linearly_and_is_inactive_in_eval():
    model = make_model(drop_path_rate=0.1, num_hidden_layers=3)
    rates = [layer.drop_path.drop_prob for layer in model.vision_model.encoder.layers]
    assert rates == pytest.approx([0.0, 0.05, 0.1])
    videos = torch.randn(1, 8, 3, 32, 32)
    with torch.no_grad():
        first = model.get_video_features(pixel_values_videos=videos).pooler_output
        second = model.get_video_features(pixel_values_videos=videos).pooler_output
    assert torch.equal(first, second)


def test_hidden_states_and_attentions_are_returned_on_request():
    model = make_model()
    model.set_attn_implementation("eager")
    with torch.no_grad():
        out = model.vision_model(
            pixel_values_videos=torch.randn(1, 8, 3, 32, 32),
            output_hidden_states=True,
            output_attentions=True,
        )
    assert len(out.hidden_states) == 3
    assert len(out.attentions) == 2
    assert out.attentions[0].shape == (1, 4, 129, 129)


def test_text_attention_is_causal():
    model = make_model()
    batch = random_batch(batch_size=1)
    changed = batch["input_ids"].clone()
    changed[0, 8] = 123
    with torch.no_grad():
        before = model.text_model(input_ids=batch["input_ids"]).last_hidden_state
        after = model.text_model(input_ids=changed).last_hidden_state
    torch.testing.assert_close(before[0, :8], after[0, :8])
    assert not torch.allclose(before[0, 8:], after[0, 8:])


def test_save_and_reload_through_automodel(tmp_path):
    from transformers import AutoConfig, AutoModel

    model = make_model()
    model.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").exists()
    assert AutoConfig.from_pretrained(tmp_path).model_type == "viclip"
    reloaded = AutoModel.from_pretrained(tmp_path).eval()
    assert type(reloaded) is ViCLIPModel
    batch = random_batch()
    with torch.no_grad():
        torch.testing.assert_close(
            reloaded(**batch).logits_per_video, model(**batch).logits_per_video, atol=0, rtol=0
        )


def test_bfloat16_loading_keeps_the_text_layernorm_in_float32(tmp_path):
    make_model().save_pretrained(tmp_path)
    model = ViCLIPModel.from_pretrained(tmp_path, dtype=torch.bfloat16).eval()
    assert model.logit_scale.dtype == torch.bfloat16
    batch = random_batch()
    batch["pixel_values_videos"] = batch["pixel_values_videos"].bfloat16()
    with torch.no_grad():
        out = model(**batch)
        reference = make_model()(**random_batch())
    assert out.logits_per_video.dtype == torch.bfloat16
    torch.testing.assert_close(out.video_embeds.float(), reference.video_embeds, atol=0.05, rtol=0)


def test_towers_load_from_the_full_model_folder(tmp_path):
    model = make_model()
    model.save_pretrained(tmp_path)
    vision = ViCLIPVisionModelWithProjection.from_pretrained(tmp_path).eval()
    text = ViCLIPTextModelWithProjection.from_pretrained(tmp_path).eval()
    batch = random_batch()
    with torch.no_grad():
        full_video = model.get_video_features(pixel_values_videos=batch["pixel_values_videos"]).pooler_output
        full_text = model.get_text_features(input_ids=batch["input_ids"]).pooler_output
        torch.testing.assert_close(
            vision(pixel_values_videos=batch["pixel_values_videos"]).video_embeds, full_video
        )
        torch.testing.assert_close(text(input_ids=batch["input_ids"]).text_embeds, full_text)


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ((2, 8, 3, 16, 16), "frames are 3x16x16, but this model takes 3x32x32"),
        ((2, 3, 32), "must have shape"),
    ],
)
def test_wrong_video_shapes_raise_a_clear_error(shape, message):
    with pytest.raises(ValueError, match=message):
        ViCLIPVisionModel(tiny_config().vision_config)(pixel_values_videos=torch.randn(*shape))


def test_text_longer_than_the_context_raises_a_clear_error():
    model = make_model()
    with pytest.raises(ValueError, match="ViCLIP's text context is 32"):
        model.get_text_features(input_ids=torch.ones(1, 40, dtype=torch.long))


@pytest.mark.parametrize(
    ("model_cls", "projection", "tower"),
    [
        (ViCLIPModel, "visual_projection", "vision_config"),
        (ViCLIPModel, "text_projection", "text_config"),
        (ViCLIPVisionModelWithProjection, "visual_projection", "vision_config"),
        (ViCLIPTextModelWithProjection, "text_projection", "text_config"),
    ],
)
def test_projections_are_initialised_with_clip_std(model_cls, projection, tower):
    torch.manual_seed(0)
    config = tiny_config()
    weight = getattr(model_cls(config), projection).weight
    expected = getattr(config, tower).hidden_size ** -0.5
    assert abs(weight.std().item() - expected) < 0.15 * expected
