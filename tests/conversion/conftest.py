"""Fixtures of the conversion tests (the tiny-dev checkpoint converted once lives in tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from viclip_cli import main
from viclip_testing import TINY_CHECKPOINT


@pytest.fixture
def original_tiny_sd() -> dict[str, torch.Tensor]:
    """A fresh (mutable) copy of the tiny-dev original state dict."""
    return dict(torch.load(TINY_CHECKPOINT, weights_only=True)["model"])


def run_convert(tmp_path: Path, checkpoint: Path, *extra: str, name: str = "out") -> tuple[int, Path]:
    """`viclip convert` of ``checkpoint`` (tiny-dev ones: ``--allow-vocab-mismatch``) into ``tmp_path / name``."""
    output = tmp_path / name
    argv = ["convert", "--checkpoint", str(checkpoint), "--output-dir", str(output), "--quiet"]
    return main([*argv, "--allow-vocab-mismatch", *extra]), output
