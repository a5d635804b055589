# Copyright 2026 The viclip authors. Licensed under the Apache License, Version 2.0.
"""PyTorch ViCLIP: the video CLIP of InternVid (ICLR 2024), in transformers 5 conventions.

Where ViCLIP is CLIP, this file looks like transformers' `modeling_clip.py`; where it differs, a one-line comment
says so. It is copied into Hub folders as remote code: only transformers/torch and sibling files are imported.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from transformers import initialization as init
from transformers.activations import ACT2FN
from transformers.modeling_layers import GradientCheckpointingLayer
from transformers.modeling_outputs import BaseModelOutput, BaseModelOutputWithPooling, ImageClassifierOutput
from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS, PreTrainedModel
from transformers.processing_utils import Unpack
from transformers.utils import ModelOutput, TransformersKwargs, logging
from transformers.utils.generic import can_return_tuple
from transformers.utils.output_capturing import capture_outputs

from .configuration_viclip import ViCLIPConfig, ViCLIPTextConfig, ViCLIPVisionConfig

logger = logging.get_logger(__name__)


def contrastive_loss(logits: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(logits, torch.arange(len(logits), device=logits.device))


def video_text_contrastive_loss(logits_per_text: torch.Tensor) -> torch.Tensor:
    """Symmetric InfoNCE: the mean of the text->video and video->text cross-entropies."""
    return (contrastive_loss(logits_per_text) + contrastive_loss(logits_per_text.t())) / 2.0


@dataclass
class ViCLIPVisionModelOutput(ModelOutput):
    r"""
    video_embeds (`torch.FloatTensor` of shape `(batch_size, projection_dim)`):
        The projected (not normalised) video embeddings.
    """

    video_embeds: torch.FloatTensor | None = None
    last_hidden_state: torch.FloatTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    attentions: tuple[torch.FloatTensor, ...] | None = None


@dataclass
class ViCLIPTextModelOutput(ModelOutput):
    r"""
    text_embeds (`torch.FloatTensor` of shape `(batch_size, projection_dim)`):
        The projected (not normalised) text embeddings.
    """

    text_embeds: torch.FloatTensor | None = None
    last_hidden_state: torch.FloatTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    attentions: tuple[torch.FloatTensor, ...] | None = None


@dataclass
class ViCLIPOutput(ModelOutput):
    r"""
    loss (`torch.FloatTensor` of shape `()`, *optional*, returned when `return_loss` is `True`):
        Symmetric video-text InfoNCE loss.
    logits_per_video (`torch.FloatTensor` of shape `(video_batch_size, text_batch_size)`):
        Cosine similarities scaled by `exp(logit_scale)`.
    logits_per_text (`torch.FloatTensor` of shape `(text_batch_size, video_batch_size)`):
        The transpose of `logits_per_video`.
    text_embeds / video_embeds (`torch.FloatTensor` of shape `(batch_size, projection_dim)`):
        L2-normalised projected embeddings.
    text_model_output / vision_model_output (`BaseModelOutputWithPooling`):
        The tower outputs.
    """

    loss: torch.FloatTensor | None = None
    logits_per_video: torch.FloatTensor | None = None
    logits_per_text: torch.FloatTensor | None = None
    text_embeds: torch.FloatTensor | None = None
    video_embeds: torch.FloatTensor | None = None
    text_model_output: BaseModelOutputWithPooling | None = None
    vision_model_output: BaseModelOutputWithPooling | None = None

    def to_tuple(self) -> tuple[Any, ...]:
        return tuple(v.to_tuple() if isinstance(v, ModelOutput) else v for v in self.values())


class ViCLIPFp32LayerNorm(nn.LayerNorm):
    """LayerNorm computed in float32 and cast back: the original text tower does this, the vision tower does not."""

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        weight = self.weight.float() if self.weight is not None else None
        bias = self.bias.float() if self.bias is not None else None
        output = F.layer_norm(hidden_states.float(), self.normalized_shape, weight, bias, self.eps)
        return output.to(hidden_states.dtype)


class ViCLIPDropPath(nn.Module):
    """Stochastic depth on the residual branch (per sample), active in training only."""

    def __init__(self, drop_prob: float = 0.0):
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        if self.drop_prob == 0.0 or not self.training:
            return hidden_states
        keep_prob = 1.0 - self.drop_prob
        shape = (hidden_states.shape[0],) + (1,) * (hidden_states.ndim - 1)
        mask = hidden_states.new_empty(shape).bernoulli_(keep_prob)
        return hidden_states * mask / keep_prob

    def extra_repr(self) -> str:
        return f"p={self.drop_prob}"


class ViCLIPVisionEmbeddings(nn.Module):
    """Frames -> tokens [CLS, (patch 0, frames 0..T-1), (patch 1, frames 0..T-1), ...] with spatial and temporal
    position embeddings, optionally dropping random patch tokens (training-time masking)."""

    def __init__(self, config: ViCLIPVisionConfig):
        super().__init__()
        self.config = config
        self.embed_dim = config.hidden_size
        self.patch_size = config.patch_size
        self.num_patches = config.num_patches
        self.num_positions = self.num_patches + 1

        self.class_embedding = nn.Parameter(torch.zeros(self.embed_dim))
        # ViCLIP: a Conv3d with a (1, p, p) kernel, i.e. the CLIP patch conv applied to each frame.
        self.patch_embedding = nn.Conv3d(
            config.num_channels,
            self.embed_dim,
            kernel_size=(1, self.patch_size, self.patch_size),
            stride=(1, self.patch_size, self.patch_size),
            bias=False,
        )
        self.position_embedding = nn.Embedding(self.num_positions, self.embed_dim)
        # ViCLIP: one learned row per frame, added to the patch tokens only (never to CLS); zero at init.
        self.temporal_embedding = nn.Parameter(torch.zeros(1, config.num_frames, self.embed_dim))

    def temporal_table(self, num_frames: int) -> torch.Tensor:
        """The temporal table for `num_frames` frames, (1, num_frames, dim), adapted like the original code:
        the mean row for one frame, linear interpolation for more frames, the first rows for fewer."""
        table = self.temporal_embedding
        trained_frames = table.shape[1]
        if num_frames == 1:
            return table.mean(dim=1, keepdim=True)
        if num_frames == trained_frames:
            return table
        if num_frames < trained_frames:
            return table[:, :num_frames]
        table = F.interpolate(table.transpose(1, 2), size=num_frames, mode="linear", align_corners=False)
        return table.transpose(1, 2)

    def random_masking(self, patch_tokens: torch.Tensor, mask_ratio: float) -> torch.Tensor:
        """Drops `int(mask_ratio * L)` random patch tokens per sample and keeps the rest in their order."""
        batch_size, length, dim = patch_tokens.shape
        num_masked = int(mask_ratio * length)
        noise = torch.rand(batch_size, length, device=patch_tokens.device)
        masked = torch.zeros(batch_size, length, dtype=torch.bool, device=patch_tokens.device)
        masked.scatter_(1, noise.argsort(dim=-1)[:, :num_masked], True)
        return patch_tokens[~masked].reshape(batch_size, length - num_masked, dim)

    def forward(self, pixel_values_videos: torch.Tensor, mask_ratio: float = 0.0) -> torch.Tensor:
        if pixel_values_videos.ndim == 4:  # a batch of images is a batch of one-frame videos
            pixel_values_videos = pixel_values_videos.unsqueeze(1)
        if pixel_values_videos.ndim != 5:
            raise ValueError(
                "pixel_values_videos must have shape (batch, frames, channels, height, width) or "
                f"(batch, channels, height, width); got {tuple(pixel_values_videos.shape)}."
            )
        batch_size, num_frames, num_channels, height, width = pixel_values_videos.shape
        size = self.config.image_size
        if (height, width) != (size, size) or num_channels != self.config.num_channels:
            raise ValueError(
                f"pixel_values_videos frames are {num_channels}x{height}x{width}, but this model takes "
                f"{self.config.num_channels}x{size}x{size}; resize with the model's video processor."
            )

        target_dtype = self.patch_embedding.weight.dtype
        # (B, T, C, H, W) -> (B, C, T, H, W) -> (B, D, T, g, g) -> (B, T, g*g, D)
        patches = self.patch_embedding(pixel_values_videos.to(target_dtype).transpose(1, 2))
        patches = patches.flatten(3).permute(0, 2, 3, 1)
        positions = self.position_embedding.weight
        # Every frame's tokens get the same spatial table; CLS gets row 0 (identical for all frames).
        patches = patches + positions[1:]
        class_token = (self.class_embedding + positions[0]).to(patches.dtype).expand(batch_size, 1, -1)
        # (B, T, N, D) -> (B, N, T, D): the temporal table is added per frame, then tokens are ordered `b (n t) d`.
        patches = patches.transpose(1, 2) + self.temporal_table(num_frames).unsqueeze(1).to(patches.dtype)
        patches = patches.reshape(batch_size, self.num_patches * num_frames, self.embed_dim)
        if mask_ratio > 0.0:
            patches = self.random_masking(patches, mask_ratio)
        return torch.cat([class_token, patches], dim=1)


class ViCLIPTextEmbeddings(nn.Module):
    def __init__(self, config: ViCLIPTextConfig):
        super().__init__()
        self.token_embedding = nn.Embedding(config.vocab_size, config.hidden_size)
        self.position_embedding = nn.Embedding(config.max_position_embeddings, config.hidden_size)

    def forward(self, input_ids: torch.LongTensor) -> torch.Tensor:
        seq_length = input_ids.shape[-1]
        max_positions = self.position_embedding.num_embeddings
        if seq_length > max_positions:
            raise ValueError(
                f"input_ids have {seq_length} tokens but ViCLIP's text context is {max_positions}; "
                f"tokenize with max_length={max_positions}, truncation=True."
            )
        return self.token_embedding(input_ids) + self.position_embedding.weight[:seq_length]


def eager_attention_forward(
    module: nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    scaling: float,
    dropout: float = 0.0,
    **kwargs: Unpack[TransformersKwargs],
):
    attn_weights = torch.matmul(query, key.transpose(-1, -2)) * scaling
    if attention_mask is not None:
        attn_weights = attn_weights + attention_mask
    elif module.is_causal:
        length = query.shape[-2]
        causal = torch.ones(length, length, dtype=torch.bool, device=query.device).triu(1)
        attn_weights = attn_weights.masked_fill(causal, torch.finfo(attn_weights.dtype).min)
    attn_weights = F.softmax(attn_weights, dim=-1, dtype=torch.float32).to(query.dtype)
    attn_weights = F.dropout(attn_weights, p=dropout, training=module.training)
    attn_output = torch.matmul(attn_weights, value)
    attn_output = attn_output.transpose(1, 2).contiguous()
    return attn_output, attn_weights


class ViCLIPAttention(nn.Module):
    """Multi-head attention. The original packs q/k/v in one `in_proj_weight`; here they are split like CLIP's."""

    def __init__(self, config: ViCLIPVisionConfig | ViCLIPTextConfig, is_causal: bool):
        super().__init__()
        self.config = config
        self.embed_dim = config.hidden_size
        self.num_heads = config.num_attention_heads
        self.head_dim = self.embed_dim // self.num_heads
        self.scale = self.head_dim**-0.5
        self.dropout = config.attention_dropout
        self.is_causal = is_causal

        self.q_proj = nn.Linear(self.embed_dim, self.embed_dim)
        self.k_proj = nn.Linear(self.embed_dim, self.embed_dim)
        self.v_proj = nn.Linear(self.embed_dim, self.embed_dim)
        self.out_proj = nn.Linear(self.embed_dim, self.embed_dim)

    def forward(
        self,
        hidden_states: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        **kwargs: Unpack[TransformersKwargs],
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        input_shape = hidden_states.shape[:-1]
        hidden_shape = (*input_shape, -1, self.head_dim)
        queries = self.q_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        keys = self.k_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        values = self.v_proj(hidden_states).view(hidden_shape).transpose(1, 2)

        attention_interface: Callable = ALL_ATTENTION_FUNCTIONS.get_interface(
            self.config._attn_implementation, eager_attention_forward
        )
        attn_output, attn_weights = attention_interface(
            self,
            queries,
            keys,
            values,
            attention_mask,
            scaling=self.scale,
            dropout=self.dropout if self.training else 0.0,
            is_causal=self.is_causal,
            **kwargs,
        )
        attn_output = attn_output.reshape(*input_shape, -1).contiguous()
        return self.out_proj(attn_output), attn_weights


class ViCLIPMLP(nn.Module):
    def __init__(self, config: ViCLIPVisionConfig | ViCLIPTextConfig):
        super().__init__()
        self.config = config
        self.activation_fn = ACT2FN[config.hidden_act]
        self.fc1 = nn.Linear(config.hidden_size, config.intermediate_size)
        self.fc2 = nn.Linear(config.intermediate_size, config.hidden_size)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.activation_fn(self.fc1(hidden_states)))


class ViCLIPEncoderLayer(GradientCheckpointingLayer):
    """Pre-LN residual block: x + drop_path(attn(ln1(x))), then x + drop_path(mlp(ln2(x)))."""

    def __init__(
        self,
        config: ViCLIPVisionConfig | ViCLIPTextConfig,
        is_causal: bool,
        layer_norm_cls: type[nn.LayerNorm] = nn.LayerNorm,
        drop_path_rate: float = 0.0,
    ):
        super().__init__()
        self.self_attn = ViCLIPAttention(config, is_causal=is_causal)
        self.layer_norm1 = layer_norm_cls(config.hidden_size, eps=config.layer_norm_eps)
        self.mlp = ViCLIPMLP(config)
        self.layer_norm2 = layer_norm_cls(config.hidden_size, eps=config.layer_norm_eps)
        self.drop_path = ViCLIPDropPath(drop_path_rate)

    def forward(
        self,
        hidden_states: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        **kwargs: Unpack[TransformersKwargs],
    ) -> torch.Tensor:
        attn_output, _ = self.self_attn(self.layer_norm1(hidden_states), attention_mask, **kwargs)
        hidden_states = hidden_states + self.drop_path(attn_output)
        return hidden_states + self.drop_path(self.mlp(self.layer_norm2(hidden_states)))


class ViCLIPEncoder(nn.Module):
    def __init__(
        self,
        config: ViCLIPVisionConfig | ViCLIPTextConfig,
        is_causal: bool,
        layer_norm_cls: type[nn.LayerNorm] = nn.LayerNorm,
        drop_path_rate: float = 0.0,
    ):
        super().__init__()
        self.config = config
        num_layers = config.num_hidden_layers
        # Drop-path rises linearly from 0 at the first block to `drop_path_rate` at the last, as in the original.
        rates = [drop_path_rate * i / max(num_layers - 1, 1) for i in range(num_layers)]
        self.layers = nn.ModuleList(
            [ViCLIPEncoderLayer(config, is_causal, layer_norm_cls, rate) for rate in rates]
        )
        self.gradient_checkpointing = False

    def forward(
        self,
        inputs_embeds: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        **kwargs: Unpack[TransformersKwargs],
    ) -> BaseModelOutput:
        hidden_states = inputs_embeds
        for layer in self.layers:
            hidden_states = layer(hidden_states, attention_mask, **kwargs)
        return BaseModelOutput(last_hidden_state=hidden_states)


class ViCLIPPreTrainedModel(PreTrainedModel):
    config: ViCLIPConfig
    config_class = ViCLIPConfig
    base_model_prefix = "viclip"
    input_modalities = ("video", "text")
    supports_gradient_checkpointing = True
    _no_split_modules = ["ViCLIPTextEmbeddings", "ViCLIPEncoderLayer", "ViCLIPVisionEmbeddings"]
    _supports_sdpa = True
    _supports_flash_attn = True
    _supports_flex_attn = True
    _supports_attention_backend = True
    _can_record_outputs = {
        "hidden_states": ViCLIPEncoderLayer,
        "attentions": ViCLIPAttention,
    }

    def _init_weights(self, module: nn.Module) -> None:
        """CLIP's initialisation; the temporal table starts at zero as in the original."""
        super()._init_weights(module)
        factor = getattr(self.config, "initializer_factor", 1.0)
        if isinstance(module, ViCLIPTextEmbeddings):
            init.normal_(module.token_embedding.weight, std=factor * 0.02)
            init.normal_(module.position_embedding.weight, std=factor * 0.01)
        elif isinstance(module, ViCLIPVisionEmbeddings):
            std = module.config.initializer_range * factor
            init.normal_(module.class_embedding, std=module.embed_dim**-0.5 * factor)
            init.normal_(module.patch_embedding.weight, std=std)
            init.normal_(module.position_embedding.weight, std=std)
            init.zeros_(module.temporal_embedding)
        elif isinstance(module, ViCLIPAttention):
            in_std = (module.embed_dim**-0.5) * ((2 * module.config.num_hidden_layers) ** -0.5) * factor
            for proj in (module.q_proj, module.k_proj, module.v_proj):
                init.normal_(proj.weight, std=in_std)
                init.zeros_(proj.bias)
            init.normal_(module.out_proj.weight, std=(module.embed_dim**-0.5) * factor)
            init.zeros_(module.out_proj.bias)
        elif isinstance(module, ViCLIPMLP):
            hidden = module.config.hidden_size
            init.normal_(module.fc1.weight, std=(2 * hidden) ** -0.5 * factor)
            init.normal_(
                module.fc2.weight, std=hidden**-0.5 * (2 * module.config.num_hidden_layers) ** -0.5 * factor
            )
            init.zeros_(module.fc1.bias)
            init.zeros_(module.fc2.bias)
        elif isinstance(module, nn.LayerNorm):
            init.ones_(module.weight)
            init.zeros_(module.bias)
        # Projections are matched by identity: transformers only calls `_init_weights` with a model class itself
        # when that module holds parameters of its own, which the with-projection models do not.
        elif module is getattr(self, "visual_projection", None):
            init.normal_(module.weight, std=self.config.vision_config.hidden_size**-0.5 * factor)
        elif module is getattr(self, "text_projection", None):
            init.normal_(module.weight, std=self.config.text_config.hidden_size**-0.5 * factor)
        elif isinstance(module, ViCLIPModel):
            init.constant_(module.logit_scale, self.config.logit_scale_init_value)


class ViCLIPVisionModel(ViCLIPPreTrainedModel):
    """The ViCLIP video tower without projection. `last_hidden_state` is the encoder output before `post_layernorm`
    (as in transformers' CLIP); `pooler_output` is `post_layernorm` of the CLS token."""

    config: ViCLIPVisionConfig
    config_class = ViCLIPVisionConfig
    main_input_name = "pixel_values_videos"
    input_modalities = ("video",)
    _input_embed_layer = "patch_embedding"

    def __init__(self, config: ViCLIPVisionConfig):
        super().__init__(config)
        self.embeddings = ViCLIPVisionEmbeddings(config)
        self.pre_layernorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.encoder = ViCLIPEncoder(config, is_causal=False, drop_path_rate=config.drop_path_rate)
        self.post_layernorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.post_init()

    def get_input_embeddings(self) -> nn.Module:
        return self.embeddings.patch_embedding

    @capture_outputs(tie_last_hidden_states=False)
    def forward(
        self,
        pixel_values_videos: torch.Tensor | None = None,
        **kwargs: Unpack[TransformersKwargs],
    ) -> BaseModelOutputWithPooling:
        r"""
        pixel_values_videos (`torch.FloatTensor` of shape `(batch_size, num_frames, num_channels, height, width)`):
            Normalised frames. A 4-D `(batch_size, num_channels, height, width)` batch of images is the one-frame case.
            Any number of frames works (the temporal table is adapted); random token masking applies only in
            training mode with `config.mask_ratio > 0`.
        """
        if pixel_values_videos is None:
            raise ValueError("You have to specify pixel_values_videos.")
        mask_ratio = self.config.mask_ratio if self.training else 0.0
        hidden_states = self.embeddings(pixel_values_videos, mask_ratio=mask_ratio)
        hidden_states = self.pre_layernorm(hidden_states)
        encoder_outputs: BaseModelOutput = self.encoder(inputs_embeds=hidden_states, **kwargs)
        last_hidden_state = encoder_outputs.last_hidden_state
        pooled_output = self.post_layernorm(last_hidden_state[:, 0, :])
        return BaseModelOutputWithPooling(last_hidden_state=last_hidden_state, pooler_output=pooled_output)


class ViCLIPTextModel(ViCLIPPreTrainedModel):
    """The ViCLIP text tower (OpenAI CLIP's, context 32) without projection. `last_hidden_state` is after the final
    LayerNorm; `pooler_output` is the state at the end-of-text token."""

    config: ViCLIPTextConfig
    config_class = ViCLIPTextConfig
    main_input_name = "input_ids"
    input_modalities = ("text",)
    _input_embed_layer = "token_embedding"

    def __init__(self, config: ViCLIPTextConfig):
        super().__init__(config)
        self.embeddings = ViCLIPTextEmbeddings(config)
        # ViCLIP: the text tower's LayerNorms compute in float32 (the vision tower's do not).
        self.encoder = ViCLIPEncoder(config, is_causal=True, layer_norm_cls=ViCLIPFp32LayerNorm)
        self.final_layer_norm = ViCLIPFp32LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.post_init()

    def get_input_embeddings(self) -> nn.Module:
        return self.embeddings.token_embedding

    def set_input_embeddings(self, value: nn.Module) -> None:
        self.embeddings.token_embedding = value

    @capture_outputs(tie_last_hidden_states=False)
    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        **kwargs: Unpack[TransformersKwargs],
    ) -> BaseModelOutputWithPooling:
        r"""
        input_ids (`torch.LongTensor` of shape `(batch_size, sequence_length)`), at most 32 tokens, each row holding
            an end-of-text token (the tokenizer's output).
        attention_mask (`torch.Tensor`, *optional*):
            Accepted for API compatibility and ignored, as in the original: the causal mask already keeps every
            token before the end-of-text token (where the text is pooled) from seeing the padding after it.
        """
        if input_ids is None:
            raise ValueError("You have to specify input_ids.")
        input_ids = input_ids.view(-1, input_ids.shape[-1])
        hidden_states = self.embeddings(input_ids)
        encoder_outputs: BaseModelOutput = self.encoder(inputs_embeds=hidden_states, **kwargs)
        last_hidden_state = self.final_layer_norm(encoder_outputs.last_hidden_state)
        # The end-of-text token has the largest id in the vocabulary: the original pools at the argmax of the ids.
        eot_positions = input_ids.to(device=last_hidden_state.device).argmax(dim=-1)
        pooled_output = last_hidden_state[torch.arange(last_hidden_state.shape[0]), eot_positions]
        return BaseModelOutputWithPooling(last_hidden_state=last_hidden_state, pooler_output=pooled_output)


class ViCLIPModel(ViCLIPPreTrainedModel):
    """ViCLIP: video and text towers, linear projections into a joint space, and a learned temperature.
    Its input embeddings are the text tower's token table (the only vocabulary), so `resize_token_embeddings()`
    grows the text vocabulary."""

    config: ViCLIPConfig
    main_input_name = "input_ids"

    def __init__(self, config: ViCLIPConfig):
        super().__init__(config)
        self.projection_dim = config.projection_dim
        self.text_embed_dim = config.text_config.hidden_size
        self.vision_embed_dim = config.vision_config.hidden_size

        self.text_model = ViCLIPTextModel._from_config(config.text_config)
        self.vision_model = ViCLIPVisionModel._from_config(config.vision_config)
        self.visual_projection = nn.Linear(self.vision_embed_dim, self.projection_dim, bias=False)
        self.text_projection = nn.Linear(self.text_embed_dim, self.projection_dim, bias=False)
        # `logit_scale` = log(1 / temp) of the original.
        self.logit_scale = nn.Parameter(torch.tensor(config.logit_scale_init_value))
        self.post_init()

    def get_input_embeddings(self) -> nn.Module:
        return self.text_model.embeddings.token_embedding

    def set_input_embeddings(self, value: nn.Module) -> None:
        self.text_model.embeddings.token_embedding = value

    @can_return_tuple
    def get_text_features(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        **kwargs: Unpack[TransformersKwargs],
    ) -> tuple | BaseModelOutputWithPooling:
        """Text tower outputs whose `pooler_output` is the projected (not normalised) text embedding."""
        text_outputs: BaseModelOutputWithPooling = self.text_model(
            input_ids=input_ids, attention_mask=attention_mask, return_dict=True, **kwargs
        )
        text_outputs.pooler_output = self.text_projection(text_outputs.pooler_output)
        return text_outputs

    @can_return_tuple
    def get_video_features(
        self,
        pixel_values_videos: torch.Tensor,
        **kwargs: Unpack[TransformersKwargs],
    ) -> tuple | BaseModelOutputWithPooling:
        """Video tower outputs whose `pooler_output` is the projected (not normalised) video embedding.
        A 4-D batch of images gives image embeddings (the one-frame case)."""
        vision_outputs: BaseModelOutputWithPooling = self.vision_model(
            pixel_values_videos=pixel_values_videos, return_dict=True, **kwargs
        )
        vision_outputs.pooler_output = self.visual_projection(vision_outputs.pooler_output)
        return vision_outputs

    def get_image_features(self, pixel_values: torch.Tensor, **kwargs: Unpack[TransformersKwargs]):
        """Image embeddings: each image is a one-frame video (the original's T = 1 path)."""
        return self.get_video_features(pixel_values_videos=pixel_values, **kwargs)

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        pixel_values_videos: torch.FloatTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        return_loss: bool | None = None,
        **kwargs: Unpack[TransformersKwargs],
    ) -> ViCLIPOutput:
        r"""
        return_loss (`bool`, *optional*):
            Whether to return the symmetric video-text contrastive loss (row i of the videos matches row i of the texts).
        """
        vision_outputs = self.get_video_features(pixel_values_videos=pixel_values_videos, **kwargs)
        text_outputs = self.get_text_features(input_ids=input_ids, attention_mask=attention_mask, **kwargs)

        video_embeds = F.normalize(vision_outputs.pooler_output, dim=-1)
        text_embeds = F.normalize(text_outputs.pooler_output, dim=-1)
        logit_scale = self.logit_scale.clamp(max=self.config.logit_scale_max).exp()
        logits_per_text = torch.matmul(text_embeds, video_embeds.t().to(text_embeds.device)) * logit_scale
        logits_per_video = logits_per_text.t()

        loss = video_text_contrastive_loss(logits_per_text) if return_loss else None
        return ViCLIPOutput(
            loss=loss,
            logits_per_video=logits_per_video,
            logits_per_text=logits_per_text,
            text_embeds=text_embeds,
            video_embeds=video_embeds,
            text_model_output=text_outputs,
            vision_model_output=vision_outputs,
        )


class ViCLIPVisionModelWithProjection(ViCLIPPreTrainedModel):
    """The video tower with its projection: `video_embeds` are the projected (not normalised) embeddings.
    Its config is a [`ViCLIPConfig`] (the projection size lives there)."""

    config: ViCLIPConfig
    base_model_prefix = "vision_model"
    main_input_name = "pixel_values_videos"
    input_modalities = ("video",)

    def __init__(self, config: ViCLIPConfig):
        super().__init__(config)
        self.vision_model = ViCLIPVisionModel._from_config(config.vision_config)
        self.visual_projection = nn.Linear(
            config.vision_config.hidden_size, config.projection_dim, bias=False
        )
        self.post_init()

    def get_input_embeddings(self) -> nn.Module:
        return self.vision_model.embeddings.patch_embedding

    @can_return_tuple
    def forward(
        self, pixel_values_videos: torch.Tensor | None = None, **kwargs: Unpack[TransformersKwargs]
    ) -> ViCLIPVisionModelOutput:
        outputs: BaseModelOutputWithPooling = self.vision_model(
            pixel_values_videos=pixel_values_videos, **kwargs
        )
        return ViCLIPVisionModelOutput(
            video_embeds=self.visual_projection(outputs.pooler_output),
            last_hidden_state=outputs.last_hidden_state,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
        )


class ViCLIPTextModelWithProjection(ViCLIPPreTrainedModel):
    """The text tower with its projection: `text_embeds` are the projected (not normalised) embeddings.
    Its config is a [`ViCLIPConfig`] (the projection size lives there)."""

    config: ViCLIPConfig
    base_model_prefix = "text_model"
    main_input_name = "input_ids"
    input_modalities = ("text",)

    def __init__(self, config: ViCLIPConfig):
        super().__init__(config)
        self.text_model = ViCLIPTextModel._from_config(config.text_config)
        self.text_projection = nn.Linear(config.text_config.hidden_size, config.projection_dim, bias=False)
        self.post_init()

    def get_input_embeddings(self) -> nn.Module:
        return self.text_model.embeddings.token_embedding

    def set_input_embeddings(self, value: nn.Module) -> None:
        self.text_model.embeddings.token_embedding = value

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        **kwargs: Unpack[TransformersKwargs],
    ) -> ViCLIPTextModelOutput:
        outputs: BaseModelOutputWithPooling = self.text_model(
            input_ids=input_ids, attention_mask=attention_mask, **kwargs
        )
        return ViCLIPTextModelOutput(
            text_embeds=self.text_projection(outputs.pooler_output),
            last_hidden_state=outputs.last_hidden_state,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
        )


class ViCLIPForVideoClassification(ViCLIPPreTrainedModel):
    """The ViCLIP video tower with a linear classification head, for fine-tuned action recognition.

    Its config is a [`ViCLIPConfig`] (with `num_labels`, `id2label`/`label2id` and `problem_type`), so a saved
    [`ViCLIPModel`] folder loads directly: `ViCLIPForVideoClassification.from_pretrained(folder, num_labels=...)`
    keeps the video tower and `visual_projection`, drops the text tower, `text_projection` and `logit_scale`,
    and initialises the head `classifier`.

    The head reads the projected video embedding: `classifier(dropout(visual_projection(post_layernorm(CLS))))`.
    The original ViCLIP vision encoder ends in that projection, so fine-tuning starts from the very embedding
    pretraining aligned with text. `config.classifier_dropout` (default 0) sets the dropout.

    A 6-D input `(batch, views, frames, channels, height, width)` is multi-view testing: every view is
    classified and the logits are averaged over views.
    """

    config: ViCLIPConfig
    main_input_name = "pixel_values_videos"
    input_modalities = ("video",)

    def __init__(self, config: ViCLIPConfig):
        super().__init__(config)
        # The video-classification pipeline reads `config.num_frames` to know how many frames to sample.
        if getattr(config, "num_frames", None) is None:
            config.num_frames = config.vision_config.num_frames
        self.num_labels = config.num_labels
        self.vision_model = ViCLIPVisionModel._from_config(config.vision_config)
        self.visual_projection = nn.Linear(
            config.vision_config.hidden_size, config.projection_dim, bias=False
        )
        self.dropout = nn.Dropout(getattr(config, "classifier_dropout", None) or 0.0)
        self.classifier = nn.Linear(config.projection_dim, config.num_labels)
        self.post_init()

    def get_input_embeddings(self) -> nn.Module:
        return self.vision_model.embeddings.patch_embedding

    def _init_weights(self, module: nn.Module) -> None:
        # The head is matched by identity, like the projections in the base class.
        if module is getattr(self, "classifier", None):
            init.normal_(module.weight, std=0.02 * getattr(self.config, "initializer_factor", 1.0))
            init.zeros_(module.bias)
        else:
            super()._init_weights(module)

    @can_return_tuple
    def forward(
        self,
        pixel_values_videos: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        **kwargs: Unpack[TransformersKwargs],
    ) -> ImageClassifierOutput:
        r"""
        pixel_values_videos (`torch.FloatTensor` of shape `(batch_size, num_frames, num_channels, height, width)`):
            Normalised frames, or `(batch_size, num_views, num_frames, num_channels, height, width)` for
            multi-view testing (logits averaged over the views; hidden states and attentions are per view).
        labels (`torch.LongTensor` of shape `(batch_size,)` or `torch.FloatTensor` of shape `(batch_size, num_labels)`,
            *optional*):
            Class indices for single-label classification (cross-entropy), multi-hot targets for
            `problem_type="multi_label_classification"` (BCE with logits), values for `num_labels == 1`
            (regression, MSE).
        """
        if pixel_values_videos is None:
            raise ValueError("You have to specify pixel_values_videos.")
        num_views = None
        if pixel_values_videos.ndim == 6:
            batch_size, num_views = pixel_values_videos.shape[:2]
            pixel_values_videos = pixel_values_videos.flatten(0, 1)
        outputs: BaseModelOutputWithPooling = self.vision_model(
            pixel_values_videos=pixel_values_videos, **kwargs
        )
        embeds = self.visual_projection(outputs.pooler_output)
        logits = self.classifier(self.dropout(embeds))
        if num_views is not None:
            logits = logits.view(batch_size, num_views, -1).mean(dim=1)

        loss = None
        if labels is not None:
            loss = self.loss_function(labels, logits, self.config, **kwargs)
        return ImageClassifierOutput(
            loss=loss, logits=logits, hidden_states=outputs.hidden_states, attentions=outputs.attentions
        )


__all__ = [
    "ViCLIPForVideoClassification",
    "ViCLIPModel",
    "ViCLIPPreTrainedModel",
    "ViCLIPTextModel",
    "ViCLIPTextModelWithProjection",
    "ViCLIPVisionModel",
    "ViCLIPVisionModelWithProjection",
]
