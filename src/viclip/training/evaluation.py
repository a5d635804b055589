"""Retrieval evaluation during training: embed a held-out split, text-to-video / video-to-text R@K."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from ..evaluation.retrieval_metrics import retrieval_metrics


def recall_at_k(similarity: torch.Tensor, ks: Sequence[int] = (1, 5, 10)) -> dict[str, float]:
    """R@K, median and mean rank (percent / ranks) of a square ``(texts, videos)`` similarity matrix whose
    diagonal holds the pairs; ties count against the correct item."""
    return retrieval_metrics(similarity, ks=ks)


@torch.no_grad()
def embed_examples(
    forward: Callable[..., tuple[torch.Tensor, torch.Tensor, torch.Tensor]],
    examples: Sequence[dict[str, Any]],
    collate_fn: Callable[[list[dict]], dict[str, Any]],
    batch_size: int,
    device: torch.device,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(video_embeds, text_embeds)`` (normalised, float32, CPU) of `examples` through `forward`
    (a `ContrastiveTrainingModule`, possibly wrapped by DDP/FSDP; every process must call this together)."""
    videos, texts = [], []
    for start in range(0, len(examples), batch_size):
        batch = collate_fn(list(examples[start : start + batch_size]))
        video, text, _ = forward(
            input_ids=batch["input_ids"].to(device),
            pixel_values_videos=batch["pixel_values_videos"].to(device),
            attention_mask=batch["attention_mask"].to(device),
        )
        videos.append(video.float().cpu())
        texts.append(text.float().cpu())
    return torch.cat(videos), torch.cat(texts)


def evaluate_retrieval(
    forward: Callable[..., tuple[torch.Tensor, torch.Tensor, torch.Tensor]],
    examples: Sequence[dict[str, Any]],
    collate_fn: Callable[[list[dict]], dict[str, Any]],
    batch_size: int,
    device: torch.device,
    ks: Sequence[int] = (1, 5, 10),
) -> dict[str, float]:
    """Embed `examples` (clip ``i`` paired with caption ``i``) and return R@K in both directions."""
    if not examples:
        raise ValueError("the evaluation split has no examples")
    video, text = embed_examples(forward, examples, collate_fn, batch_size, device)
    return recall_at_k(text @ video.t(), ks)
