"""Fixtures of the conversion tests: the tiny-dev checkpoint converted once (with --verify) for the session."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from viclip.conversion import main
from viclip_testing import TINY_DEV, tiny_dev_config

TINY_CHECKPOINT = TINY_DEV / "original_checkpoint.pth"


@pytest.fixture(scope="session")
def tiny_config_json(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("config") / "tiny_config.json"
    tiny_dev_config().to_json_file(path)
    return path


@pytest.fixture(scope="session")
def converted_tiny(tmp_path_factory, tiny_config_json) -> Path:
    """The tiny-dev checkpoint converted by `viclip convert --verify` (reloads it, also through remote code)."""
    output = tmp_path_factory.mktemp("converted") / "viclip-tiny"
    argv = [
        "--checkpoint",
        str(TINY_CHECKPOINT),
        "--output-dir",
        str(output),
        "--config",
        str(tiny_config_json),
    ]
    assert main([*argv, "--verify", "--quiet"]) == 0
    return output


@pytest.fixture
def original_tiny_sd() -> dict[str, torch.Tensor]:
    """A fresh (mutable) copy of the tiny-dev original state dict."""
    return dict(torch.load(TINY_CHECKPOINT, weights_only=True)["model"])


def run_convert(tmp_path: Path, checkpoint: Path, *extra: str, name: str = "out") -> tuple[int, Path]:
    output = tmp_path / name
    return main(["--checkpoint", str(checkpoint), "--output-dir", str(output), "--quiet", *extra]), output
