"""Fixtures shared by the whole suite: the tiny original checkpoint and tiny configurations."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file

from viclip import ViCLIPConfig
from viclip_testing import TINY_DEV, tiny_dev_config


@pytest.fixture(scope="session")
def original_tiny_state_dict() -> dict[str, torch.Tensor]:
    return torch.load(TINY_DEV / "original_checkpoint.pth", weights_only=True)["model"]


@pytest.fixture(scope="session")
def original_tiny_reference() -> dict[str, torch.Tensor]:
    return load_file(TINY_DEV / "reference_io.safetensors")


@pytest.fixture
def tiny_dev_viclip_config() -> ViCLIPConfig:
    return tiny_dev_config()
