"""The port reproduces the original code's outputs on the tiny-dev checkpoint (fixtures made with the original)."""

from __future__ import annotations

import pytest
import torch

from viclip import ViCLIPModel, convert_original_state_dict, to_original_state_dict

ATOL = 1e-5


def load_converted(config, state_dict, attn_implementation: str) -> ViCLIPModel:
    model = ViCLIPModel(config)
    model.load_state_dict(convert_original_state_dict(state_dict, config), strict=True)
    model.set_attn_implementation(attn_implementation)
    return model.eval()


@pytest.mark.parametrize("attn_implementation", ["eager", "sdpa"])
def test_converted_model_reproduces_original_embeddings_and_hidden_states(
    tiny_dev_viclip_config, original_tiny_state_dict, original_tiny_reference, attn_implementation
):
    ref = original_tiny_reference
    model = load_converted(tiny_dev_viclip_config, original_tiny_state_dict, attn_implementation)
    assert model.config._attn_implementation == attn_implementation
    with torch.no_grad():
        video = model.get_video_features(pixel_values_videos=ref["pixel_values_video"])
        image = model.get_video_features(pixel_values_videos=ref["pixel_values_image"])
        text = model.get_text_features(input_ids=ref["input_ids"])

    torch.testing.assert_close(video.pooler_output, ref["video_embeds"], atol=ATOL, rtol=0)
    torch.testing.assert_close(image.pooler_output, ref["image_embeds"], atol=ATOL, rtol=0)
    torch.testing.assert_close(text.pooler_output, ref["text_embeds"], atol=ATOL, rtol=0)
    torch.testing.assert_close(video.last_hidden_state, ref["video_last_hidden_state"], atol=ATOL, rtol=0)
    torch.testing.assert_close(text.last_hidden_state, ref["text_last_hidden_state"], atol=ATOL, rtol=0)


def test_logits_are_cosine_similarities_over_the_original_temperature(
    tiny_dev_viclip_config, original_tiny_state_dict, original_tiny_reference
):
    ref = original_tiny_reference
    model = load_converted(tiny_dev_viclip_config, original_tiny_state_dict, "sdpa")
    with torch.no_grad():
        out = model(input_ids=ref["input_ids"], pixel_values_videos=ref["pixel_values_video"])
    video = torch.nn.functional.normalize(ref["video_embeds"], dim=-1)
    text = torch.nn.functional.normalize(ref["text_embeds"], dim=-1)
    expected = video @ text.t() / ref["temp"].item()
    torch.testing.assert_close(out.logits_per_video, expected, atol=1e-4, rtol=0)
    torch.testing.assert_close(out.logits_per_text, expected.t(), atol=1e-4, rtol=0)
    assert out.loss is None


def test_image_batch_equals_one_frame_video(
    tiny_dev_viclip_config, original_tiny_state_dict, original_tiny_reference
):
    model = load_converted(tiny_dev_viclip_config, original_tiny_state_dict, "sdpa")
    images = original_tiny_reference["pixel_values_image"]
    with torch.no_grad():
        as_images = model.get_image_features(pixel_values=images).pooler_output
        as_videos = model.get_video_features(pixel_values_videos=images.unsqueeze(1)).pooler_output
    torch.testing.assert_close(as_images, as_videos, atol=0, rtol=0)


def test_inverse_mapping_gives_back_the_original_state_dict(tiny_dev_viclip_config, original_tiny_state_dict):
    model = load_converted(tiny_dev_viclip_config, original_tiny_state_dict, "sdpa")
    back = to_original_state_dict(model.state_dict(), tiny_dev_viclip_config)
    assert set(back) == set(original_tiny_state_dict)
    for key, tensor in original_tiny_state_dict.items():
        if key == "temp":
            torch.testing.assert_close(
                back[key], tensor, atol=0, rtol=1e-6
            )  # stored as a log: float rounding
        else:
            assert torch.equal(back[key], tensor), key
