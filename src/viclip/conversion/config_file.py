"""Reading ``viclip convert --config FILE.json``: a `ViCLIPConfig` JSON, or the original code's model arguments.

Every key is checked: a key neither format knows is refused by name, never silently ignored (a JSON of unknown
keys would otherwise load as the default L/14 configuration and fail on hundreds of shapes).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

from ..modeling.configuration_viclip import ViCLIPConfig
from .errors import ConversionError

# The original code's model arguments (`viclip.py` / `viclip_vision.py` / `viclip_text.py`), as written in
# tests/assets/tiny-dev/original_config.json -> where they go in a ViCLIPConfig.
ORIGINAL_VISION_KEYS = {
    "vision_width": "hidden_size",
    "vision_layers": "num_hidden_layers",
    "vision_heads": "num_attention_heads",
    "image_size": "image_size",
    "patch_size": "patch_size",
    "num_frames": "num_frames",
}
ORIGINAL_TEXT_KEYS = {
    "text_width": "hidden_size",
    "text_layers": "num_hidden_layers",
    "text_heads": "num_attention_heads",
    "vocab_size": "vocab_size",
    "context_length": "max_position_embeddings",
    "sot_token_id": "bos_token_id",
    "eot_token_id": "eos_token_id",
    "pad_token_id": "pad_token_id",
}
ORIGINAL_REQUIRED = ("vision_width", "vision_layers", "vision_heads", "patch_size", "text_width", "text_layers",
                     "text_heads", "embed_dim")  # fmt: skip
# `temp` is a weight of the checkpoint itself (the logit scale), so the file's value is not needed.
ORIGINAL_IGNORED = ("temp",)
# Keys that only a ViCLIPConfig JSON has: their presence says which format a file is in.
_VICLIP_MARKERS = ("vision_config", "text_config", "projection_dim")
_EXTRA_SAVED_KEYS = ("auto_map", "torch_dtype")  # written by save_pretrained / older transformers


def load_config_file(path: str | Path) -> ViCLIPConfig:
    """The `ViCLIPConfig` of a JSON file: a saved ``config.json`` (or the same fields written by hand), or the
    original code's model arguments (``vision_width``, ``vision_layers``, ..., ``embed_dim``, ``vocab_size``).

    Raises:
        ConversionError: the file cannot be read, holds no key of either format, mixes them, or has keys that
            neither knows (all named in the message).
    """
    path = Path(path)
    data = _read_json_object(path)
    original = [key for key in data if key in ORIGINAL_VISION_KEYS or key in ORIGINAL_TEXT_KEYS
                or key == "embed_dim"]  # fmt: skip
    viclip_markers = [key for key in _VICLIP_MARKERS if key in data]
    if original and viclip_markers:
        raise ConversionError(
            f"config file {path} mixes ViCLIPConfig keys ({', '.join(viclip_markers)}) with the original code's "
            f"model arguments ({', '.join(sorted(original))}); use one format"
        )
    if original and "vision_width" in data:
        return config_from_original_arguments(data, path)
    return _viclip_config(data, path)


def _read_json_object(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConversionError(f"config file {path} does not exist") from None
    except (OSError, ValueError) as error:
        raise ConversionError(f"cannot read config file {path}: {error}") from None
    if not isinstance(data, dict):
        raise ConversionError(f"config file {path} must hold a JSON object, got {type(data).__name__}")
    return data


def _known_keys() -> tuple[set[str], set[str], set[str]]:
    """The keys a saved ViCLIPConfig can hold: top level, vision_config, text_config."""
    default = ViCLIPConfig().to_dict()
    top = set(default) | set(_EXTRA_SAVED_KEYS)
    return top, set(default["vision_config"]), set(default["text_config"])


def _viclip_config(data: dict[str, Any], path: Path) -> ViCLIPConfig:
    if data.get("model_type", "viclip") != "viclip":
        raise ConversionError(f"config file {path} has model_type {data['model_type']!r}, expected 'viclip'")
    top, vision, text = _known_keys()
    unknown = sorted(set(data) - top)
    for name, known in (("vision_config", vision), ("text_config", text)):
        section = data.get(name, {})
        if not isinstance(section, dict):
            raise ConversionError(f"config file {path}: {name} must be a JSON object")
        unknown += sorted(f"{name}.{key}" for key in set(section) - known)
    if unknown:
        raise ConversionError(
            f"config file {path} has keys a ViCLIPConfig does not know: {', '.join(unknown)} (a ViCLIPConfig "
            "JSON has vision_config, text_config and projection_dim; the original code's arguments are "
            "vision_width, vision_layers, ..., embed_dim)"
        )
    if not [key for key in data if key in _VICLIP_MARKERS or key == "model_type"]:
        raise ConversionError(
            f"config file {path} holds no ViCLIPConfig key (vision_config, text_config, projection_dim); "
            "for a released size pass --size l|b instead"
        )
    data = {key: value for key, value in data.items() if key not in _EXTRA_SAVED_KEYS}
    try:
        return ViCLIPConfig.from_dict(data)
    except (TypeError, ValueError) as error:
        raise ConversionError(f"invalid ViCLIP config in {path}: {str(error).splitlines()[0]}") from None


def config_from_original_arguments(data: dict[str, Any], path: str | Path = "the config") -> ViCLIPConfig:
    """A `ViCLIPConfig` from the original code's model arguments (MLPs 4x wide, as the original builds them).

    Keys of no model meaning (a name, a seed, a list of shapes) are ignored with a warning naming them.
    """
    missing = [key for key in ORIGINAL_REQUIRED if key not in data]
    if missing:
        raise ConversionError(
            f"config file {path} holds the original code's model arguments but lacks {', '.join(missing)}"
        )
    known = {*ORIGINAL_VISION_KEYS, *ORIGINAL_TEXT_KEYS, "embed_dim", *ORIGINAL_IGNORED}
    ignored = sorted(set(data) - known)
    if ignored:
        warnings.warn(
            f"config file {path}: ignored keys that do not describe the model: {', '.join(ignored)}",
            UserWarning,
            stacklevel=2,
        )
    vision = {target: data[key] for key, target in ORIGINAL_VISION_KEYS.items() if key in data}
    text = {target: data[key] for key, target in ORIGINAL_TEXT_KEYS.items() if key in data}
    vision["intermediate_size"] = 4 * vision["hidden_size"]
    text["intermediate_size"] = 4 * text["hidden_size"]
    try:
        return ViCLIPConfig(vision_config=vision, text_config=text, projection_dim=data["embed_dim"])
    except (TypeError, ValueError) as error:
        raise ConversionError(f"invalid model arguments in {path}: {str(error).splitlines()[0]}") from None
