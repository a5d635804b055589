"""Shared fixtures: tiny generated videos (PyAV/libx264) and a tiny random ViCLIP model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from viclip.data.synthetic import write_video as encode_video

ASSETS = Path(__file__).resolve().parents[1] / "assets"


def write_video(
    path: Path, color: tuple[int, int, int], num_frames: int = 16, fps: int = 8, size=(48, 40)
) -> Path:
    """A small H.264 clip: a solid colour with a moving white square, so frames differ."""
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

    original = json.loads((ASSETS / "tiny-dev" / "original_config.json").read_text())
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
    state_dict = torch.load(ASSETS / "tiny-dev" / "original_checkpoint.pth", weights_only=True)["model"]
    model = ViCLIPModel(config)
    model.load_state_dict(convert_original_state_dict(state_dict, config), strict=True)
    return model.eval()


class TinyVocabProcessor:
    """The real ViCLIPProcessor with its token ids folded into the tiny fixture's 1000-token vocabulary.

    The tiny checkpoint was trained on nothing, so no tokenizer "belongs" to it: start/end tokens map to
    its own (998/999), padding to 0, every other CLIP id to ``1 + id % 997``. This only exercises the
    text path end to end; it claims nothing about the meaning of the scores.
    """

    def __init__(self, processor, sot: int = 998, eot: int = 999):
        self.inner = processor
        self.video_processor = processor.video_processor
        self.tokenizer = processor.tokenizer
        self.sot, self.eot = sot, eot

    def __call__(self, text=None, **kwargs):
        out = self.inner(text=text, **kwargs)
        ids, mask = out["input_ids"], out["attention_mask"]
        folded = 1 + ids % 997
        folded[ids == self.tokenizer.bos_token_id] = self.sot
        folded[ids == self.tokenizer.eos_token_id] = self.eot
        folded[mask == 0] = 0
        out["input_ids"] = folded
        return out


@pytest.fixture(scope="session")
def tiny_vocab_processor(tiny_processor):
    return TinyVocabProcessor(tiny_processor)
