"""Text-video retrieval metrics on a similarity matrix: R@K, median and mean rank, both directions.

Conventions (documented because papers differ on them):

- ``similarity`` is ``(num_texts, num_videos)``; ``text_to_video[i]`` is the index of the video that
  caption ``i`` describes, so a video may have several captions (MSR-VTT, DiDeMo-style galleries).
- Ranks are 1-based. Ties are broken pessimistically: every wrong candidate scoring *at least* as
  high as the best correct one is ranked ahead of it. A model that outputs constant scores thus
  gets the worst rank, never a lucky R@1.
- Text-to-video: each caption is a query with exactly one correct video.
- Video-to-text: each video is a query; it is correct at rank r when its best-scoring caption is
  at rank r (its other captions never count against it). Every video needs at least one caption.
- Recalls are percentages (0-100), like the tables of the ViCLIP paper. R@K with fewer candidates than K
  is not applicable (every query would succeed): its value is ``None``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

DEFAULT_KS: tuple[int, ...] = (1, 5, 10)


def dual_softmax(similarity: torch.Tensor, temperature: float = 100.0) -> torch.Tensor:
    """Dual-softmax re-ranking (CAMoE, Cheng et al. 2021) for a ``(queries, candidates)`` matrix.

    Each score is multiplied by a prior: the softmax of ``temperature * similarity`` over the *queries*
    for the same candidate, so a candidate that matches many queries equally well is pushed down.
    Ranking is then done per row, as usual. It uses the statistics of the whole query set, which is
    why papers report it separately.
    """
    similarity = similarity.float()
    return similarity * torch.softmax(similarity * temperature, dim=0)


def _gold_mask(text_to_video: torch.Tensor, num_videos: int) -> torch.Tensor:
    mask = torch.zeros(len(text_to_video), num_videos, dtype=torch.bool)
    mask[torch.arange(len(text_to_video)), text_to_video] = True
    return mask


def ranks_from_similarity(similarity: torch.Tensor, gold: torch.Tensor) -> torch.Tensor:
    """1-based rank of the best correct candidate of each query (row), ties counted against it.

    Args:
        similarity: ``(queries, candidates)`` scores, higher is better.
        gold: boolean ``(queries, candidates)`` mask of correct candidates, at least one per row.
    """
    if similarity.shape != gold.shape:
        raise ValueError(f"similarity shape {tuple(similarity.shape)} != gold mask shape {tuple(gold.shape)}")
    if not bool(gold.any(dim=1).all()):
        missing = torch.nonzero(~gold.any(dim=1)).flatten().tolist()
        raise ValueError(f"queries {missing[:10]} have no correct candidate")
    similarity = similarity.float()
    best_gold = similarity.masked_fill(~gold, float("-inf")).max(dim=1).values
    wrong_ahead = ((similarity >= best_gold[:, None]) & ~gold).sum(dim=1)
    return wrong_ahead + 1


def _summarise(
    ranks: torch.Tensor, prefix: str, ks: Sequence[int], num_candidates: int
) -> dict[str, float | None]:
    ranks_f = ranks.double()
    out: dict[str, float | None] = {
        f"{prefix}_R@{k}": float((ranks <= k).double().mean() * 100) if k <= num_candidates else None
        for k in ks
    }
    out[f"{prefix}_median_rank"] = float(ranks_f.quantile(0.5))
    out[f"{prefix}_mean_rank"] = float(ranks_f.mean())
    return out


def retrieval_metrics(
    similarity: torch.Tensor,
    text_to_video: Sequence[int] | torch.Tensor | None = None,
    *,
    ks: Sequence[int] = DEFAULT_KS,
    use_dual_softmax: bool = False,
    temperature: float = 100.0,
) -> dict[str, float | None]:
    """R@K, median and mean rank for text-to-video (``t2v_*``) and video-to-text (``v2t_*``).

    Args:
        similarity: ``(num_texts, num_videos)`` similarities (cosine, or logits).
        text_to_video: video index of every caption; ``None`` means caption ``i`` belongs to video ``i``
            (a square matrix).
        ks: the K of R@K.
        use_dual_softmax: apply :func:`dual_softmax` in each direction before ranking.
        temperature: the dual-softmax temperature (a multiplier of the similarities).

    The median of an even number of ranks is the mean of the two middle ones.
    """
    similarity = torch.as_tensor(similarity).detach().cpu().float()
    if similarity.ndim != 2 or 0 in similarity.shape:
        raise ValueError(
            f"similarity must be a non-empty (num_texts, num_videos) matrix, got {tuple(similarity.shape)}"
        )
    num_texts, num_videos = similarity.shape
    if text_to_video is None:
        if num_texts != num_videos:
            raise ValueError(
                f"similarity is {num_texts}x{num_videos}: pass text_to_video (the video index of every caption) "
                "when the matrix is not square"
            )
        text_to_video = torch.arange(num_texts)
    text_to_video = torch.as_tensor(text_to_video, dtype=torch.long).flatten().cpu()
    if len(text_to_video) != num_texts:
        raise ValueError(
            f"text_to_video has {len(text_to_video)} entries but similarity has {num_texts} texts (rows)"
        )
    if len(text_to_video) and (text_to_video.min() < 0 or text_to_video.max() >= num_videos):
        raise ValueError(
            f"text_to_video holds indices outside [0, {num_videos}) (the number of videos, columns)"
        )
    captioned = torch.bincount(text_to_video, minlength=num_videos)
    if not bool((captioned > 0).all()):
        lonely = torch.nonzero(captioned == 0).flatten().tolist()
        raise ValueError(
            f"videos {lonely[:10]} have no caption: every video needs at least one for video-to-text"
        )
    if any(int(k) < 1 for k in ks):
        raise ValueError(f"ks must be positive integers, got {list(ks)}")

    gold = _gold_mask(text_to_video, num_videos)
    t2v = similarity
    v2t = similarity.T
    if use_dual_softmax:
        t2v = dual_softmax(t2v, temperature)
        v2t = dual_softmax(v2t, temperature)
    results = _summarise(ranks_from_similarity(t2v, gold), "t2v", ks, num_videos)
    results.update(_summarise(ranks_from_similarity(v2t, gold.T), "v2t", ks, num_texts))
    return results
