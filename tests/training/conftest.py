"""Fixtures of the training tests; the helpers live in `tiny_data` (importable by subprocess scripts)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from tiny_data import tiny_model

from viclip import ViCLIPModel


@pytest.fixture
def tiny_viclip() -> ViCLIPModel:
    return tiny_model()
