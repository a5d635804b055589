"""ViCLIPProcessor and the packaged tokenizer: original token ids, batching, save/load, Hub remote code."""

import json
import os
import subprocess
import sys

import pytest
import torch
from transformers import AutoProcessor, CLIPTokenizer

from viclip import ViCLIPProcessor, ViCLIPVideoProcessor, clean_text, load_default_tokenizer
from viclip.processing import clean_caption

from .conftest import ASSETS, EXAMPLE_VIDEO

REFERENCE = json.loads((ASSETS / "tokenizer_reference.json").read_text(encoding="utf-8"))
EOT = REFERENCE["eot_token_id"]


@pytest.fixture(scope="module")
def processor() -> ViCLIPProcessor:
    return ViCLIPProcessor()


def test_packaged_tokenizer_is_the_clip_bpe_vocabulary():
    tokenizer = load_default_tokenizer()
    assert isinstance(tokenizer, CLIPTokenizer)
    assert len(tokenizer) == 49408
    assert tokenizer.convert_tokens_to_ids(["<|startoftext|>", "<|endoftext|>"]) == [49406, 49407]
    assert tokenizer.model_max_length == 32


@pytest.mark.parametrize("case", REFERENCE["cases"], ids=lambda case: repr(case["text"][:30]))
def test_token_ids_equal_the_original_tokenizer(processor, case):
    expected = case["input_ids_ctx32"]
    length = expected.index(EOT) + 1
    out = processor(text=case["text"], return_tensors="pt")
    ids, mask = out["input_ids"][0].tolist(), out["attention_mask"][0].tolist()
    assert len(ids) == 32
    assert ids[:length] == expected[:length]
    assert mask == [1] * length + [0] * (32 - length)


def test_reference_covers_the_strings_that_need_cleaning():
    tokenizer = load_default_tokenizer()
    differ_without_cleaning = 0
    for case in REFERENCE["cases"]:
        expected = case["input_ids_ctx32"]
        length = expected.index(EOT) + 1
        raw = tokenizer(case["text"], max_length=32, truncation=True)["input_ids"]
        differ_without_cleaning += raw[:length] != expected[:length]
    assert differ_without_cleaning == 4


def test_long_text_is_truncated_to_32_tokens_ending_with_end_of_text(processor):
    ids = processor(text="word " * 100, return_tensors="pt")["input_ids"][0]
    assert ids.shape == (32,) and ids[0] == 49406 and ids[-1] == EOT


def test_text_cleaning_matches_the_original_rules():
    assert clean_text("  Tom &amp;amp; Jerry\n\tROCK  ") == "tom & jerry rock"
    assert clean_text("caf\u00c3\u00a9") == "café"
    assert clean_caption("A man -- walks/runs, (quickly)!  Yes.") == "a man walks runs quickly yes"
    assert clean_caption("one two three four", max_words=2) == "one two"


def test_text_and_videos_in_one_batch(processor, index_video):
    out = processor(
        text=["a dog", "a man in a gray sweater"],
        videos=[EXAMPLE_VIDEO, (index_video, 1.0, 3.0)],
        return_tensors="pt",
    )
    assert set(out) == {"input_ids", "attention_mask", "pixel_values_videos"}
    assert out["input_ids"].shape == (2, 32) and out["input_ids"].dtype == torch.long
    assert out["pixel_values_videos"].shape == (2, 8, 3, 224, 224)
    assert out["pixel_values_videos"].dtype == torch.float32


def test_video_keywords_pass_through_the_processor(processor):
    out = processor(
        videos=EXAMPLE_VIDEO, sampling="demo", num_frames=4, return_metadata=True, return_tensors="pt"
    )
    assert out["pixel_values_videos"].shape == (1, 4, 3, 224, 224)
    assert out["video_metadata"][0].frame_indices == [0, 10, 20, 30]


def test_for_model_sets_image_size_and_num_frames():
    processor = ViCLIPProcessor.for_model(image_size=32, num_frames=4)
    out = processor(videos=EXAMPLE_VIDEO, return_tensors="pt")
    assert out["pixel_values_videos"].shape == (1, 4, 3, 32, 32)


def test_save_and_load_round_trip_with_auto_processor(tmp_path, index_video):
    video_processor = ViCLIPVideoProcessor.for_model(image_size=32, num_frames=4)
    processor = ViCLIPProcessor(
        video_processor=video_processor, tokenizer=load_default_tokenizer(), clean_text=False
    )
    processor.save_pretrained(tmp_path)
    assert {"processor_config.json", "tokenizer.json", "tokenizer_config.json"} <= set(os.listdir(tmp_path))
    loaded = AutoProcessor.from_pretrained(tmp_path)
    assert type(loaded) is ViCLIPProcessor and loaded.clean_text is False
    inputs = {
        "text": ["Tom &amp; Jerry", "a dog"],
        "videos": [index_video, EXAMPLE_VIDEO],
        "return_tensors": "pt",
    }
    expected, got = processor(**inputs), loaded(**inputs)
    for key in ("input_ids", "attention_mask", "pixel_values_videos"):
        torch.testing.assert_close(got[key], expected[key])


@pytest.mark.slow
def test_saved_processor_loads_as_hub_remote_code_without_viclip(tmp_path):
    processor = ViCLIPProcessor.for_model(image_size=32, num_frames=4)
    processor.register_for_auto_class("AutoProcessor")
    processor.video_processor.register_for_auto_class("AutoVideoProcessor")
    try:
        processor.save_pretrained(tmp_path / "model")
    finally:
        del ViCLIPProcessor._auto_class, ViCLIPVideoProcessor._auto_class
    copied = {
        "processing_viclip.py",
        "video_processing_viclip.py",
        "video_reading.py",
        "text_cleaning.py",
        "errors.py",
    }
    assert copied <= set(os.listdir(tmp_path / "model"))
    script = (
        "import sys\n"
        "from transformers import AutoProcessor\n"
        f"p = AutoProcessor.from_pretrained({str(tmp_path / 'model')!r}, trust_remote_code=True)\n"
        f"out = p(text='Tom &amp; Jerry', videos={str(EXAMPLE_VIDEO)!r}, return_tensors='pt')\n"
        "assert 'viclip' not in sys.modules, 'remote code imported the viclip package'\n"
        "print(tuple(out['pixel_values_videos'].shape), out['input_ids'][0, :5].tolist())\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_MODULES_CACHE": str(tmp_path / "modules")}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    expected_ids = processor(text="Tom &amp; Jerry")["input_ids"][:5]
    assert result.stdout.strip().splitlines()[-1] == f"(1, 4, 3, 32, 32) {expected_ids}"


def test_processor_without_inputs_or_with_bad_text_raises(processor):
    with pytest.raises(ValueError, match="needs text, videos, or both"):
        processor()
    with pytest.raises(TypeError, match="text must be a str or a list of str"):
        processor(text=[1, 2])
