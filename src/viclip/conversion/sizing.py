"""Choosing the `ViCLIPConfig` of a checkpoint: a released size detected from the tensor shapes, a preset by name, or
a configuration JSON for any other size."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from ..modeling.configuration_viclip import PRESET_ALIASES, PRESETS, ViCLIPConfig
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
        "Pass --size l|b, or --config CONFIG.json (a ViCLIPConfig) for any other size"
    )


def load_config_file(path: str | Path) -> ViCLIPConfig:
    """A `ViCLIPConfig` from a JSON file (a saved ``config.json`` or the same fields written by hand)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConversionError(f"config file {path} does not exist") from None
    except (OSError, ValueError) as error:
        raise ConversionError(f"cannot read config file {path}: {error}") from None
    if not isinstance(data, dict):
        raise ConversionError(f"config file {path} must hold a JSON object, got {type(data).__name__}")
    if data.get("model_type", "viclip") != "viclip":
        raise ConversionError(f"config file {path} has model_type {data['model_type']!r}, expected 'viclip'")
    data.pop("auto_map", None)
    try:
        return ViCLIPConfig.from_dict(data)
    except (TypeError, ValueError) as error:
        raise ConversionError(f"invalid ViCLIP config in {path}: {str(error).splitlines()[0]}") from None


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
