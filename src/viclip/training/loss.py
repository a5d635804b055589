"""ViCLIP's contrastive loss over the global batch.

Every process all-gathers the L2-normalised video and text features of all processes *with gradient*
(its backward sums, over all processes, the gradients of each process's own rows) and computes the full ``(N*B) x (N*B)`` InfoNCE. Each process then holds the same loss ``L``
and, for its own features, ``N * dL/dfeatures`` (one contribution per process); DDP averages the
parameter gradients over the ``N`` processes, which leaves exactly ``dL/dparameters``: N processes
train like one process on the concatenated batch.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn


def _is_distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


class _GatherWithGradient(torch.autograd.Function):
    """All-gather along dim 0 whose backward gives each process the sum, over all processes, of the
    gradients of its own rows (reduce-scatter on NCCL; all-reduce and slice elsewhere, e.g. gloo,
    which has no reduce-scatter)."""

    @staticmethod
    def forward(ctx, tensor: torch.Tensor) -> torch.Tensor:
        world = dist.get_world_size()
        ctx.rank, ctx.rows = dist.get_rank(), tensor.shape[0]
        tensor = tensor.contiguous()
        out = [torch.empty_like(tensor) for _ in range(world)]
        dist.all_gather(out, tensor)
        return torch.cat(out, dim=0)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        grad = grad.contiguous()
        if dist.get_backend() == dist.Backend.NCCL:
            local = torch.empty((ctx.rows, *grad.shape[1:]), dtype=grad.dtype, device=grad.device)
            dist.reduce_scatter_tensor(local, grad, op=dist.ReduceOp.SUM)
            return local
        dist.all_reduce(grad, op=dist.ReduceOp.SUM)
        return grad[ctx.rank * ctx.rows : (ctx.rank + 1) * ctx.rows]


def gather_features(
    video_features: torch.Tensor, text_features: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Concatenate the features of all processes in rank order, keeping the autograd graph.

    Every process must pass the same number of rows. Without an initialised process group (or with
    one process) the inputs are returned as they are.
    """
    if not _is_distributed():
        return video_features, text_features
    return _GatherWithGradient.apply(video_features), _GatherWithGradient.apply(text_features)


def gathered_contrastive_loss(
    video_features: torch.Tensor,
    text_features: torch.Tensor,
    logit_scale: torch.Tensor,
    *,
    gather: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric InfoNCE of ViCLIP over the global batch: the features of every process are gathered (with
    gradient), then the mean of the video->text and text->video cross-entropies. (The modeling module's
    `contrastive_loss` takes ready logits of one process.)

    Args:
        video_features: ``(B, D)`` L2-normalised video embeddings of this process.
        text_features: ``(B, D)`` L2-normalised text embeddings; row ``i`` describes video ``i``.
        logit_scale: the multiplier ``1 / temperature`` (already exponentiated and clamped).
        gather: use the features of every process (the global batch).

    Returns:
        ``(loss, logits_per_video)`` where ``logits_per_video`` is ``(B_global, B_global)``.
    """
    if video_features.shape != text_features.shape or video_features.ndim != 2:
        raise ValueError(
            "video_features and text_features must both be (batch, dim) with the same shape; got "
            f"{tuple(video_features.shape)} and {tuple(text_features.shape)}"
        )
    # The loss is computed in float32 whatever the autocast dtype of the towers.
    video_features, text_features = video_features.float(), text_features.float()
    if gather:
        video_features, text_features = gather_features(video_features, text_features)
    logits_per_video = logit_scale.float() * video_features @ text_features.t()
    labels = torch.arange(len(logits_per_video), device=logits_per_video.device)
    loss = (F.cross_entropy(logits_per_video, labels) + F.cross_entropy(logits_per_video.t(), labels)) / 2
    return loss, logits_per_video


class ContrastiveTrainingModule(nn.Module):
    """Wraps a `ViCLIPModel` so that one forward returns what the loss needs.

    The logit scale is read inside `forward` so that DDP/FSDP/DeepSpeed see every use of the parameters
    within the wrapped call (a sharded parameter read outside `forward` would be empty). Saved state
    dicts are prefixed with ``model.``; `accelerator.unwrap_model(module).model` is the `ViCLIPModel`.
    """

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(
        self,
        input_ids: torch.Tensor,
        pixel_values_videos: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Returns ``(video_embeds, text_embeds, logit_scale)``, embeddings L2-normalised."""
        outputs = self.model(
            input_ids=input_ids, pixel_values_videos=pixel_values_videos, attention_mask=attention_mask
        )
        logit_scale = self.model.logit_scale.clamp(max=self.model.config.logit_scale_max).exp()
        return outputs.video_embeds, outputs.text_embeds, logit_scale
