"""The per-example transform: an annotation row with its video file -> model inputs.

``load_internvid`` calls a transform on every row whose video was found. Any callable
``(row: dict) -> dict`` works; it raises ``VideoDecodeError`` for an unreadable video (counted as
``corrupt_video``). The default, :class:`ViCLIPExampleTransform`, uses ``ViCLIPVideoProcessor`` and the
packaged CLIP tokenizer.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import torch

from ..processing import clean_caption
from .model_processor import ProcessorSource, resolve_processor


class ExampleTransform(Protocol):
    """``row`` has ``video_path``, ``clip_start_sec``/``clip_end_sec`` (``None`` for a pre-cut clip),
    ``caption`` and ``row_index``; the result must hold ``pixel_values_videos``, ``input_ids``,
    ``attention_mask`` and may replace ``caption``."""

    def __call__(self, row: dict[str, Any]) -> dict[str, Any]: ...


class ViCLIPExampleTransform:
    """Decode + preprocess the clip and tokenize the caption with a ``ViCLIPProcessor``.

    Args:
        processor: the processor, or a model folder whose processor to use (default: ``ViCLIPProcessor()``, the
            released models' 8 frames of 224x224); it decides the frames, their size and normalisation, and its
            text cleaning (``clean_text``) applies as configured there.
        training: random frame sampling (+ RandomResizedCrop/flip, see ``train_augmentation``); else middle
            sampling + plain resize.
        clean_captions: apply the original ``pre_text`` caption cleaning before tokenizing (the
            example's ``caption`` is then the cleaned text).
        decode_threads: FFmpeg threads per clip (1 suits DataLoader workers; 0 lets FFmpeg choose).
        seed: base seed of the per-example randomness (``None``: ``torch.initial_seed()``, which
            DataLoader sets per worker and epoch). Each example's seed mixes in its ``row_index``.
    """

    train_augmentation = True
    """RandomResizedCrop(0.5, 1) + flip of training clips (subclasses without it: see RandomFramesTransform)."""

    def __init__(
        self,
        processor: ProcessorSource | None = None,
        *,
        training: bool = True,
        clean_captions: bool = False,
        decode_threads: int = 1,
        seed: int | None = None,
    ):
        self.processor = resolve_processor(processor)
        self.training = training
        self.clean_captions = clean_captions
        self.decode_threads = decode_threads
        self.seed = seed

    def _example_seed(self, row_index: int) -> int:
        base = self.seed if self.seed is not None else torch.initial_seed()
        return int(np.random.SeedSequence([base % (1 << 63), int(row_index)]).generate_state(1)[0])

    def text_fields(self, caption: str) -> dict[str, Any]:
        """``input_ids``, ``attention_mask`` and the ``caption`` (cleaned with ``clean_captions``)."""
        caption = clean_caption(caption) if self.clean_captions else caption
        text = self.processor(text=caption, return_tensors="pt")
        return {
            "input_ids": text["input_ids"][0],
            "attention_mask": text["attention_mask"][0],
            "caption": caption,
        }

    def __call__(self, row: dict[str, Any]) -> dict[str, Any]:
        clip = {"path": row["video_path"], "start_sec": row["clip_start_sec"], "end_sec": row["clip_end_sec"]}
        pixel_values = self.processor.video_processor(
            clip,
            sampling="random" if self.training else "middle",
            do_train_augmentation=self.training and self.train_augmentation,
            seed=self._example_seed(row["row_index"]) if self.training else None,
            num_threads=self.decode_threads,
            return_tensors="pt",
        )["pixel_values_videos"][0]
        return {"pixel_values_videos": pixel_values, **self.text_fields(row["caption"])}
