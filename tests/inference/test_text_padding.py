"""The text tower runs on the tokens up to the batch's last end-of-text token: the same features as 32 tokens."""

import torch
import torch.nn.functional as F

from viclip.inference import VideoTextEmbedder
from viclip.inference.text_padding import trim_after_end_of_text

CAPTIONS = ["hello", "a dog runs on the beach", "a person is cooking pasta in a small kitchen while talking"]


def test_the_batch_is_cut_after_its_longest_captions_end_of_text_token(tiny_processor):
    inputs = tiny_processor(text=CAPTIONS, return_tensors="pt")
    trimmed = trim_after_end_of_text(inputs)
    end_of_text = inputs["input_ids"].argmax(dim=-1)
    assert inputs["input_ids"].shape[1] == 32
    assert trimmed["input_ids"].shape == (3, int(end_of_text.max()) + 1)
    assert trimmed["attention_mask"].shape == trimmed["input_ids"].shape
    assert torch.equal(trimmed["input_ids"], inputs["input_ids"][:, : trimmed["input_ids"].shape[1]])


def test_trimmed_ids_give_the_padded_ids_pooled_features(tiny_model, tiny_processor):
    ids = tiny_processor(text=CAPTIONS, return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        padded = tiny_model.get_text_features(input_ids=ids).pooler_output
        trimmed = tiny_model.get_text_features(
            input_ids=trim_after_end_of_text({"input_ids": ids})["input_ids"]
        )
    torch.testing.assert_close(trimmed.pooler_output, padded, rtol=1e-5, atol=1e-5)


def test_embedder_text_embeddings_match_the_full_context(tiny_model, tiny_processor):
    embedder = VideoTextEmbedder(tiny_model, tiny_processor)
    ids = tiny_processor(text=CAPTIONS, return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        expected = F.normalize(tiny_model.get_text_features(input_ids=ids).pooler_output, dim=-1)
    torch.testing.assert_close(embedder.encode_text(CAPTIONS), expected, rtol=1e-5, atol=1e-5)


def test_a_single_empty_caption_keeps_its_start_and_end_tokens(tiny_processor):
    trimmed = trim_after_end_of_text(tiny_processor(text=[""], return_tensors="pt"))
    assert trimmed["input_ids"].shape == (1, 2)
