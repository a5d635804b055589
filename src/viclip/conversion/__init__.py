"""Conversion of the original ViCLIP checkpoints into Hugging Face folders (``viclip convert``)."""

from .checkpoint import LoadedCheckpoint, load_checkpoint
from .converter import ConversionResult, convert_checkpoint, write_folder
from .errors import ConversionError, UnsafeCheckpointError
from .safetensors_writer import parse_size, write_model_weights
from .sizing import detect_preset, load_config_file, resolve_config
from .verification import VerificationReport, verify_folder

__all__ = [
    "ConversionError",
    "ConversionResult",
    "LoadedCheckpoint",
    "UnsafeCheckpointError",
    "VerificationReport",
    "convert_checkpoint",
    "detect_preset",
    "load_checkpoint",
    "load_config_file",
    "parse_size",
    "resolve_config",
    "verify_folder",
    "write_folder",
    "write_model_weights",
]
