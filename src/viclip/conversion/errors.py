"""Errors of the conversion: each carries a one-line message that names the file, key or option at fault."""

from __future__ import annotations

from ..errors import ViCLIPError


class ConversionError(ViCLIPError):
    """A conversion stopped for a reason the user can fix (bad file, wrong size, existing output...)."""


class UnsafeCheckpointError(ConversionError):
    """The checkpoint is a pickle that carries code (or objects other than tensors and plain containers)."""


class VerificationError(ConversionError):
    """``--verify`` found that the written folder does not reproduce the converted model (the work failed, the
    inputs were fine: `viclip convert` exits 1 for it, 2 for every other conversion error)."""
