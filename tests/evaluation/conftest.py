"""Fixtures of the evaluation tests (videos and tiny models are shared: see tests/conftest.py)."""

from __future__ import annotations

import pytest


class TinyVocabProcessor:
    """The real ViCLIPProcessor with its token ids folded into the tiny fixture's 1000-token vocabulary.

    The tiny checkpoint was trained on nothing, so no tokenizer "belongs" to it: start/end tokens map to
    its own (998/999), padding to 0, every other CLIP id to ``1 + id % 997``. This only exercises the
    text path end to end; it claims nothing about the meaning of the scores.
    """

    def __init__(self, processor, sot: int = 998, eot: int = 999):
        self.inner = processor
        self.video_processor = processor.video_processor
        self.tokenizer = processor.tokenizer
        self.sot, self.eot = sot, eot

    def __call__(self, text=None, **kwargs):
        out = self.inner(text=text, **kwargs)
        ids, mask = out["input_ids"], out["attention_mask"]
        folded = 1 + ids % 997
        folded[ids == self.tokenizer.bos_token_id] = self.sot
        folded[ids == self.tokenizer.eos_token_id] = self.eot
        folded[mask == 0] = 0
        out["input_ids"] = folded
        return out


@pytest.fixture(scope="session")
def tiny_vocab_processor(tiny_processor):
    return TinyVocabProcessor(tiny_processor)
