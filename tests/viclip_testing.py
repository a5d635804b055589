"""Helpers shared by the test suite (importable as `viclip_testing`: pytest puts tests/ on the path)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

# viclip (and with it torch) is imported by the helpers that need it: the xdist controller imports this module
# through tests/conftest.py before it starts the workers.
if TYPE_CHECKING:
    from viclip import ViCLIPConfig

ASSETS = Path(__file__).parent / "assets"
TINY_DEV = ASSETS / "tiny-dev"
TINY_CHECKPOINT = TINY_DEV / "original_checkpoint.pth"


def convert_tiny_argv(output_dir: Path, config_json: Path) -> list[str]:
    """`viclip convert` of the tiny-dev checkpoint into ``output_dir`` with the config file ``config_json``
    (its 1000-token vocabulary does not fit the bundled tokenizer: converted on purpose)."""
    return [
        "convert",
        "--checkpoint",
        str(TINY_CHECKPOINT),
        "--output-dir",
        str(output_dir),
        "--config",
        str(config_json),
        "--allow-vocab-mismatch",
    ]


def tiny_dev_config() -> ViCLIPConfig:
    """The configuration of the original code's tiny-dev checkpoint (tests/assets/tiny-dev)."""
    from viclip import ViCLIPConfig

    original = json.loads((TINY_DEV / "original_config.json").read_text())
    return ViCLIPConfig(
        vision_config={
            "hidden_size": original["vision_width"],
            "intermediate_size": 4 * original["vision_width"],
            "num_hidden_layers": original["vision_layers"],
            "num_attention_heads": original["vision_heads"],
            "image_size": original["image_size"],
            "patch_size": original["patch_size"],
            "num_frames": original["num_frames"],
        },
        text_config={
            "vocab_size": original["vocab_size"],
            "hidden_size": original["text_width"],
            "intermediate_size": 4 * original["text_width"],
            "num_hidden_layers": original["text_layers"],
            "num_attention_heads": original["text_heads"],
            "max_position_embeddings": original["context_length"],
            "pad_token_id": original["pad_token_id"],
            "bos_token_id": original["sot_token_id"],
            "eos_token_id": original["eot_token_id"],
        },
        projection_dim=original["embed_dim"],
    )


def tiny_config(**vision_overrides) -> ViCLIPConfig:
    """A tiny model with the real CLIP vocabulary, for tests that tokenize real text."""
    from viclip import ViCLIPConfig

    return ViCLIPConfig(
        vision_config={
            "hidden_size": 64,
            "intermediate_size": 256,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "image_size": 32,
            "patch_size": 8,
            "num_frames": 8,
            **vision_overrides,
        },
        text_config={
            "hidden_size": 48,
            "intermediate_size": 192,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
        },
        projection_dim=32,
    )


def write_header_only_video(path: Path, width: int, height: int) -> Path:
    """A Matroska file declaring ``width`` x ``height`` raw frames, holding one 64-byte packet (no real frame)."""
    import av

    with av.open(str(path), "w", format="matroska") as container:
        stream = container.add_stream("rawvideo", rate=1)
        stream.width, stream.height, stream.pix_fmt = width, height, "gray"
        packet = av.Packet(bytes(64))
        packet.stream, packet.pts, packet.dts = stream, 0, 0
        container.mux(packet)
    return path


INDEX_BITS = 8
INDEX_BLOCK = 16  # width of one bit band in pixels
INDEX_WIDTH = INDEX_BITS * INDEX_BLOCK


def index_frame(index: int, height: int = 48) -> np.ndarray:
    """An RGB frame ``(height, 128, 3)`` whose 8 vertical bands are white where the bits of ``index`` are set."""
    frame = np.zeros((height, INDEX_WIDTH, 3), dtype=np.uint8)
    for bit in range(INDEX_BITS):
        if (index >> bit) & 1:
            frame[:, bit * INDEX_BLOCK : (bit + 1) * INDEX_BLOCK] = 255
    return frame


def decode_index(frame: np.ndarray) -> int:
    """The index drawn by :func:`index_frame` on an RGB frame ``(H, W, 3)`` or ``(3, H, W)`` (robust to
    compression)."""
    if frame.shape[0] == 3:
        frame = frame.transpose(1, 2, 0)
    columns = frame.mean(axis=(0, 2)).reshape(INDEX_BITS, INDEX_BLOCK)[:, 2:-2].mean(axis=1)
    return int(sum(1 << bit for bit, value in enumerate(columns) if value > 127))
