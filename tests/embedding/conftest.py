"""Shared fixtures: one local Ray instance (2 CPUs), a tiny random ViCLIP folder, tiny H.264 videos and bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from viclip.data.synthetic import write_video

FPS = 8


def frames_with_square(
    num_frames: int, color, square_frames: range = range(0), size=(48, 40)
) -> list[np.ndarray]:
    """A solid colour with a moving grey bar; a big white square in ``square_frames`` only."""
    width, height = size
    frames = []
    for i in range(num_frames):
        frame = np.empty((height, width, 3), dtype=np.uint8)
        frame[:] = color
        x = (i * 2) % (width - 8)
        frame[30:34, x : x + 8] = 128
        if i in square_frames:
            frame[4:28, 12:36] = 255
        frames.append(frame)
    return frames


@pytest.fixture(scope="session")
def video_dir(tmp_path_factory) -> Path:
    """red.mp4 and blue.mp4 (2 s), long.mp4 (6 s, a white square in [3 s, 4 s) only), sub/green.mp4, broken.mp4,
    empty.mp4 and a text file."""
    folder = tmp_path_factory.mktemp("videos")
    write_video(folder / "red.mp4", frames_with_square(16, (220, 30, 30)), fps=FPS)
    write_video(folder / "blue.mp4", frames_with_square(16, (20, 40, 210)), fps=FPS)
    write_video(folder / "long.mp4", frames_with_square(48, (30, 160, 60), range(24, 32)), fps=FPS)
    (folder / "sub").mkdir()
    write_video(folder / "sub" / "green.mp4", frames_with_square(16, (30, 200, 40)), fps=FPS)
    (folder / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 this is not really a video" * 4)
    (folder / "empty.mp4").write_bytes(b"")
    (folder / "notes.txt").write_text("not a video")
    return folder


@pytest.fixture(scope="session")
def embedder(tiny_model_dir):
    from viclip.inference import VideoTextEmbedder

    return VideoTextEmbedder.from_pretrained(tiny_model_dir, device="cpu")


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    """``viclip *argv`` in this process: ``(exit status, stdout, stderr)`` (argparse's exits included)."""
    from viclip_cli import main

    try:
        code = main([str(a) for a in argv])
    except SystemExit as exit_info:
        code = exit_info.code
    out, err = capsys.readouterr()
    return code, out, err
