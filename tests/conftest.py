"""Fixtures shared by the whole suite: the tiny original checkpoint, tiny configurations and models, small
generated videos (PyAV/libx264)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Each pytest-xdist worker gets its own Hugging Face and viclip caches (set before datasets is imported): two
# workers must not write the same datasets cache files, nor read each other's.
if worker := os.environ.get("PYTEST_XDIST_WORKER"):
    _caches = Path(tempfile.gettempdir()) / f"viclip-tests-{os.getpid()}-{worker}"
    os.environ["HF_HOME"] = str(_caches / "hf")
    os.environ["HF_DATASETS_CACHE"] = str(_caches / "datasets")
    os.environ["VICLIP_CACHE"] = str(_caches / "viclip")
    # The workers share the cores: with torch's default of a thread per core each, their OpenMP threads spin
    # against each other. The tests' subprocesses and Ray workers inherit the share.
    _share = (os.cpu_count() or 1) // int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, _share)))
# Nothing is downloaded at test time; offline, `datasets` does not ping the Hub for a local file's load count.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from typing import TYPE_CHECKING

import numpy as np
import pytest

from viclip_testing import ASSETS, TINY_CHECKPOINT, TINY_DEV, convert_tiny_argv, tiny_dev_config

# torch, transformers and viclip are imported where a fixture needs them: the xdist controller loads this file
# too, before it starts the workers, and needs none of them.
if TYPE_CHECKING:
    import torch

    from viclip import ViCLIPConfig


def pytest_xdist_make_scheduler(config, log):
    if config.getoption("dist") == "loadfile":
        from suite_scheduling import make_scheduler

        return make_scheduler(config, log)
    return None


@pytest.fixture(scope="session")
def original_tiny_state_dict() -> dict[str, torch.Tensor]:
    import torch

    return torch.load(TINY_CHECKPOINT, weights_only=True)["model"]


@pytest.fixture(scope="session")
def original_tiny_reference() -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(TINY_DEV / "reference_io.safetensors")


@pytest.fixture
def tiny_dev_viclip_config() -> ViCLIPConfig:
    return tiny_dev_config()


@pytest.fixture(scope="session")
def tiny_config_json(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("config") / "tiny_config.json"
    tiny_dev_config().to_json_file(path)
    return path


@pytest.fixture(scope="session")
def converted_tiny(tmp_path_factory, tiny_config_json) -> Path:
    """The tiny-dev checkpoint converted by `viclip convert --verify` (reloads it, also through remote code)."""
    from viclip_cli import main

    output = tmp_path_factory.mktemp("converted") / "viclip-tiny"
    assert main([*convert_tiny_argv(output, tiny_config_json), "--verify", "--quiet"]) == 0
    return output


def write_video(
    path: Path, color: tuple[int, int, int], num_frames: int = 16, fps: int = 8, size=(48, 40)
) -> Path:
    """A small H.264 clip: a solid colour with a moving white square, so frames differ."""
    from viclip.data.synthetic import write_video as encode_video

    width, height = size
    frames = []
    for i in range(num_frames):
        frame = np.empty((height, width, 3), dtype=np.uint8)
        frame[:] = color
        x = (i * 2) % (width - 8)
        frame[8:16, x : x + 8] = 255
        frames.append(frame)
    encode_video(path, frames, fps=fps)
    return path


@pytest.fixture(scope="session")
def video_dir(tmp_path_factory) -> Path:
    """Three 2-second videos: red.mp4, green.mp4, blue.mp4 (and a non-video file)."""
    folder = tmp_path_factory.mktemp("videos")
    for name, color in {"red": (220, 30, 30), "green": (30, 200, 40), "blue": (20, 40, 210)}.items():
        write_video(folder / f"{name}.mp4", color)
    (folder / "notes.txt").write_text("not a video")
    return folder


@pytest.fixture(scope="session")
def broken_video(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("broken") / "broken.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42 this is not really a video" * 4)
    return path


@pytest.fixture(scope="session")
def example_video() -> Path:
    return ASSETS / "example1.mp4"


TINY_VISION = {
    "image_size": 32,
    "patch_size": 8,
    "hidden_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 256,
    "num_frames": 8,
}
TINY_TEXT = {"hidden_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 192}


@pytest.fixture(scope="session")
def tiny_model():
    """A randomly initialised tiny ViCLIP with the full CLIP vocabulary (so the real tokenizer fits)."""
    import torch

    from viclip import ViCLIPConfig, ViCLIPModel

    torch.manual_seed(0)
    config = ViCLIPConfig(vision_config=TINY_VISION, text_config=TINY_TEXT, projection_dim=32)
    return ViCLIPModel(config).eval()


@pytest.fixture(scope="session")
def tiny_processor():
    from viclip import ViCLIPProcessor

    return ViCLIPProcessor.for_model(image_size=32, num_frames=8)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, tiny_model, tiny_processor) -> Path:
    folder = tmp_path_factory.mktemp("tiny-viclip")
    tiny_model.save_pretrained(folder)
    tiny_processor.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def converted_tiny_fixture():
    """The original-format tiny checkpoint (tests/assets/tiny-dev) converted into ViCLIPModel."""
    import json

    import torch

    from viclip import ViCLIPConfig, ViCLIPModel, convert_original_state_dict

    original = json.loads((TINY_DEV / "original_config.json").read_text())
    config = ViCLIPConfig(
        vision_config=TINY_VISION,
        text_config={
            **TINY_TEXT,
            "vocab_size": original["vocab_size"],
            "bos_token_id": original["sot_token_id"],
            "eos_token_id": original["eot_token_id"],
            "pad_token_id": original["pad_token_id"],
        },
        projection_dim=original["embed_dim"],
    )
    state_dict = torch.load(TINY_CHECKPOINT, weights_only=True)["model"]
    model = ViCLIPModel(config)
    model.load_state_dict(convert_original_state_dict(state_dict, config), strict=True)
    return model.eval()


@pytest.fixture(scope="session")
def ray_local():
    """One local Ray instance (2 CPUs, no dashboard) shared by every test that needs Ray in a session."""
    ray = pytest.importorskip("ray")
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="WARNING")
    yield ray
    if started:
        ray.shutdown()
