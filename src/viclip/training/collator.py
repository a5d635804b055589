"""Batches of ViCLIP examples: videos stacked, texts padded, `return_loss=True` for `Trainer`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch


def _as_tensor(value: Any, dtype: torch.dtype | None = None) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value if dtype is None else value.to(dtype)
    return torch.as_tensor(value, dtype=dtype)


@dataclass
class ViCLIPDataCollator:
    """Collates examples holding ``pixel_values_videos`` ``(T, C, H, W)``, ``input_ids`` and optionally
    ``attention_mask`` into a model batch.

    Texts are right-padded with `pad_token_id` to the longest in the batch (the ViCLIP text tower pools at
    the end-of-text token, so padding never changes the embedding). Other keys (captions, ids) are
    dropped unless listed in `keep_keys`, in which case they are returned as lists.

    Args:
        pad_token_id: the tokenizer's pad id (49407 for the CLIP tokenizer).
        return_loss: add ``return_loss=True`` so `ViCLIPModel` returns its loss (what `Trainer` needs).
        keep_keys: extra example keys to pass through as lists.
    """

    pad_token_id: int = 49407
    return_loss: bool = True
    keep_keys: Sequence[str] = ()

    def __call__(self, examples: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        if not examples:
            raise ValueError("cannot collate an empty list of examples")
        for i, example in enumerate(examples):
            missing = [k for k in ("pixel_values_videos", "input_ids") if k not in example]
            if missing:
                raise ValueError(f"example {i} has no {', '.join(missing)} (keys: {sorted(example)})")
        videos = [_as_tensor(e["pixel_values_videos"], torch.float32) for e in examples]
        shapes = {tuple(v.shape) for v in videos}
        if len(shapes) != 1:
            raise ValueError(f"pixel_values_videos differ in shape within the batch: {sorted(shapes)}")

        ids = [_as_tensor(e["input_ids"], torch.long).flatten() for e in examples]
        masks = [
            _as_tensor(e["attention_mask"], torch.long).flatten()
            if e.get("attention_mask") is not None
            else torch.ones_like(ids[i])
            for i, e in enumerate(examples)
        ]
        length = max(len(t) for t in ids)
        input_ids = torch.full((len(ids), length), self.pad_token_id, dtype=torch.long)
        attention_mask = torch.zeros((len(ids), length), dtype=torch.long)
        for i, (row, mask) in enumerate(zip(ids, masks)):
            if len(mask) != len(row):
                raise ValueError(f"example {i}: attention_mask has {len(mask)} tokens, input_ids {len(row)}")
            input_ids[i, : len(row)] = row
            attention_mask[i, : len(row)] = mask

        batch: dict[str, Any] = {
            "pixel_values_videos": torch.stack(videos),
            "input_ids": input_ids,
            "attention_mask": attention_mask,
        }
        if self.return_loss:
            batch["return_loss"] = True
        for key in self.keep_keys:
            batch[key] = [e.get(key) for e in examples]
        return batch
