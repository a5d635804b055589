"""Choosing the `ViCLIPConfig` of a checkpoint: a released size detected from the tensor shapes, a preset by name, or
a configuration JSON for any other size."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ..modeling.configuration_viclip import PRESET_ALIASES, PRESETS, ViCLIPConfig
from .config_file import load_config_file
from .errors import ConversionError

_PATCH_KEY = "vision_encoder.conv1.weight"  # (width, channels, 1, patch, patch)
_TEXT_KEY = "text_encoder.token_embedding.weight"  # (vocab, width)
_PROJ_KEY = "vision_encoder.proj"  # (width, projection_dim)


def _signature(vision_width: int, patch: int, vision_layers: int, text_width: int, projection: int) -> tuple:
    return (vision_width, patch, vision_layers, text_width, projection)


def _preset_signature(name: str) -> tuple:
    preset = PRESETS[name]
    vision, text = preset["vision_config"], preset["text_config"]
    return _signature(
        vision["hidden_size"], vision["patch_size"], vision["num_hidden_layers"], text["hidden_size"],
        preset["projection_dim"],
    )  # fmt: skip


def _shape_signature(shapes: Mapping[str, tuple[int, ...]]) -> tuple | None:
    try:
        width, _, _, patch, _ = shapes[_PATCH_KEY]
        _, text_width = shapes[_TEXT_KEY]
        _, projection = shapes[_PROJ_KEY]
    except (KeyError, ValueError):
        return None
    layers = {int(k.split(".")[3]) for k in shapes if k.startswith("vision_encoder.transformer.resblocks.")}
    return _signature(width, patch, len(layers), text_width, projection)


def detect_preset(shapes: Mapping[str, tuple[int, ...]]) -> str:
    """The released size ("viclip-l14" or "viclip-b16") whose shapes an original state dict has.

    Args:
        shapes: original key -> shape (a state dict's ``{k: tuple(v.shape)}``; no tensor data needed).

    Raises:
        ConversionError: no released size fits; the message gives what was found and points to ``--config``.
    """
    found = _shape_signature(shapes)
    if found is not None:
        for name in PRESETS:
            if _preset_signature(name) == found:
                return name
    if found is None:
        detail = f"it lacks {_PATCH_KEY}, {_TEXT_KEY} or {_PROJ_KEY} (is it a ViCLIP checkpoint?)"
    else:
        width, patch, layers, text_width, projection = found
        detail = (
            f"vision width {width}, patch {patch}, {layers} vision layers, text width {text_width}, "
            f"projection {projection}"
        )
    raise ConversionError(
        f"cannot detect the model size: {detail}; released sizes are L/14 and B/16. "
        "Pass --size l|b for a released size, or --config CONFIG.json (a ViCLIPConfig or the original code's "
        "model arguments) for any other size"
    )


def resolve_config(
    shapes: Mapping[str, tuple[int, ...]],
    size: str | None = None,
    config: str | Path | ViCLIPConfig | None = None,
) -> tuple[ViCLIPConfig, str | None]:
    """The configuration to convert with, and the preset name when it is a released size.

    ``config`` (a path or a config) wins, then ``size`` ("l", "b", "viclip-l14", ...), then detection from ``shapes``.
    """
    if config is not None and size is not None:
        raise ConversionError("pass either --size or --config, not both")
    if config is not None:
        config = config if isinstance(config, ViCLIPConfig) else load_config_file(config)
        matching = [name for name in PRESETS if _preset_signature(name) == _config_signature(config)]
        return config, (matching[0] if matching else None)
    if size is not None:
        name = PRESET_ALIASES.get(size.lower(), size.lower())
        if name not in PRESETS:
            raise ConversionError(f"unknown --size {size!r}; choose l (ViCLIP-L/14) or b (ViCLIP-B/16)")
    else:
        name = detect_preset(shapes)
    return ViCLIPConfig.from_preset(name), name


def _config_signature(config: ViCLIPConfig) -> tuple:
    vision, text = config.vision_config, config.text_config
    return _signature(
        vision.hidden_size,
        vision.patch_size,
        vision.num_hidden_layers,
        text.hidden_size,
        config.projection_dim,
    )


def tokenizer_mismatch(config: ViCLIPConfig) -> str | None:
    """Why the packaged CLIP tokenizer (which every converted folder carries) cannot feed ``config``'s text tower,
    or ``None`` when it fits: its ids must index the token table and its context fit the position table."""
    from ..processing.processing_viclip import CONTEXT_LENGTH, load_default_tokenizer

    text = config.text_config
    tokenizer = load_default_tokenizer()
    problems = []
    if len(tokenizer) > text.vocab_size:
        problems.append(
            f"the packaged CLIP tokenizer gives token ids up to {len(tokenizer) - 1} (end of text "
            f"{tokenizer.eos_token_id}), but the model's text vocabulary has {text.vocab_size} tokens"
        )
    if text.max_position_embeddings < CONTEXT_LENGTH:
        problems.append(
            f"the tokenizer gives {CONTEXT_LENGTH} tokens per text, the model has {text.max_position_embeddings} "
            "positions"
        )
    return "; ".join(problems) or None
