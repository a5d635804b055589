from __future__ import annotations

import pytest
import torch
from transformers import CLIPConfig, CLIPModel

from viclip.training import viclip_from_clip_model


@pytest.fixture(scope="module")
def tiny_clip() -> CLIPModel:
    torch.manual_seed(0)
    config = CLIPConfig(
        text_config={"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
                     "max_position_embeddings": 77},
        vision_config={"hidden_size": 48, "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 2,
                       "image_size": 32, "patch_size": 8},
        projection_dim=16,
    )  # fmt: skip
    return CLIPModel(config).eval()


def test_a_one_frame_video_embeds_like_the_clip_image(tiny_clip):
    model = viclip_from_clip_model(tiny_clip, num_frames=8).eval()
    images = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        expected = tiny_clip.get_image_features(pixel_values=images).pooler_output
        got = model.get_video_features(pixel_values_videos=images.unsqueeze(1)).pooler_output
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


def test_text_embeds_like_clip_within_32_tokens(tiny_clip):
    model = viclip_from_clip_model(tiny_clip).eval()
    input_ids = torch.tensor([[49406, 320, 1929, 49407, 49407], [49406, 518, 49407, 49407, 49407]])
    with torch.no_grad():
        expected = tiny_clip.get_text_features(input_ids=input_ids).pooler_output
        got = model.get_text_features(input_ids=input_ids).pooler_output
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


def test_shapes_of_the_inflated_model(tiny_clip):
    model = viclip_from_clip_model(tiny_clip, num_frames=4)
    embeddings = model.vision_model.embeddings
    assert embeddings.patch_embedding.weight.shape == (48, 3, 1, 8, 8)
    torch.testing.assert_close(
        embeddings.patch_embedding.weight[:, :, 0], tiny_clip.vision_model.embeddings.patch_embedding.weight
    )
    assert embeddings.temporal_embedding.shape == (1, 4, 48)
    assert torch.count_nonzero(embeddings.temporal_embedding) == 0
    assert model.text_model.embeddings.position_embedding.weight.shape == (32, 32)
    assert model.config.text_config.max_position_embeddings == 32


def test_a_different_frame_size_resizes_the_position_table(tiny_clip):
    model = viclip_from_clip_model(tiny_clip, image_size=48)
    assert model.vision_model.embeddings.position_embedding.weight.shape == (1 + 36, 48)


def test_a_text_context_longer_than_clip_is_rejected(tiny_clip):
    with pytest.raises(ValueError, match="exceeds CLIP's text context"):
        viclip_from_clip_model(tiny_clip, max_position_embeddings=100)


def test_the_processor_gives_the_new_models_frames_and_size(tiny_clip):
    from viclip.processing import ViCLIPProcessor

    model = viclip_from_clip_model(tiny_clip, ViCLIPProcessor.for_model(image_size=48, num_frames=4))
    vision = model.config.vision_config
    assert (vision.num_frames, vision.image_size) == (4, 48)
    assert model.vision_model.embeddings.temporal_embedding.shape == (1, 4, 48)


def test_a_processor_and_a_frame_count_together_are_refused(tiny_clip):
    from viclip.processing import ViCLIPProcessor

    with pytest.raises(ValueError, match="either processor or num_frames"):
        viclip_from_clip_model(tiny_clip, ViCLIPProcessor(), num_frames=4)
