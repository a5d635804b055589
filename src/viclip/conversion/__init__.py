"""Conversion of the original ViCLIP checkpoints into Hugging Face folders (``viclip convert``)."""

from .checkpoint import LoadedCheckpoint, load_checkpoint
from .config_file import config_from_original_arguments, load_config_file
from .converter import ConversionResult, convert_checkpoint, write_folder
from .errors import ConversionError, UnsafeCheckpointError, VerificationError
from .safetensors_writer import parse_size, write_model_weights
from .sizing import detect_preset, resolve_config
from .verification import VerificationReport, verify_folder

__all__ = [
    "ConversionError",
    "ConversionResult",
    "LoadedCheckpoint",
    "UnsafeCheckpointError",
    "VerificationError",
    "VerificationReport",
    "config_from_original_arguments",
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
