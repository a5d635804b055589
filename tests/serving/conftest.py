"""A tiny served library: six one-second moments of three small videos, indexed by the text embeddings of their
captions (so a caption finds its moment with cosine 1), a symlink leaving the library, and a file outside it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

from viclip.data.synthetic import write_video

COLOURS = {"red": (220, 30, 30), "green": (30, 200, 40), "sub/blue": (20, 40, 210)}
CAPTIONS = [f"{name.split('/')[-1]} {half} half" for name in COLOURS for half in ("first", "second")]


def moving_square(colour, num_frames: int = 16, size=(160, 96)) -> list[np.ndarray]:
    width, height = size
    frames = []
    for i in range(num_frames):
        frame = np.empty((height, width, 3), dtype=np.uint8)
        frame[:] = colour
        x = i * (width - 32) // num_frames
        frame[32:64, x : x + 32] = 255
        frames.append(frame)
    return frames


@pytest.fixture(scope="session")
def library(tmp_path_factory) -> dict:
    """``root`` (the video folder), ``outside`` (a secret video beside it), ``escape`` (a symlink in the library to
    the secret) and ``rows`` (path, start, end of each indexed moment: two per video, then the symlink)."""
    base = tmp_path_factory.mktemp("served")
    root, outside = base / "library", base / "outside"
    (root / "sub").mkdir(parents=True)
    outside.mkdir()
    for name, colour in COLOURS.items():
        write_video(root / f"{name}.mp4", moving_square(colour), fps=8)
    write_video(outside / "secret.mp4", moving_square((0, 0, 0)), fps=8)
    os.symlink(outside / "secret.mp4", root / "escape.mp4")
    rows = [(str(root / f"{name}.mp4"), start, start + 1.0) for name in COLOURS for start in (0.0, 1.0)]
    rows.append((str(root / "escape.mp4"), 0.0, 1.0))
    return {"root": root, "outside": outside, "secret": outside / "secret.mp4", "rows": rows}


@pytest.fixture(scope="session")
def text_embedder(tiny_model_dir):
    from viclip.inference import VideoTextEmbedder

    return VideoTextEmbedder.from_pretrained(tiny_model_dir, device="cpu")


@pytest.fixture(scope="session")
def index(library, text_embedder):
    from viclip.embedding import VectorIndex

    vectors = text_embedder.encode_text([*CAPTIONS, "a secret"]).numpy()
    paths, starts, ends = zip(*library["rows"])
    clips = {"path": list(paths), "start_sec": list(starts), "end_sec": list(ends)}
    return VectorIndex.build(vectors, clips, kind="exact", info={"model": "tiny"})


@pytest.fixture(scope="session")
def service(index, text_embedder):
    from viclip.serving import SearchService

    return SearchService(index, text_embedder, max_top_k=20)


@pytest.fixture(scope="session")
def thumbnail_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("index") / "thumbnails"


@pytest.fixture(scope="session")
def app(service, thumbnail_dir, library):
    from viclip.serving import Thumbnails, VideoFiles, create_app

    paths = [row[0] for row in library["rows"]]
    return create_app(service, Thumbnails(thumbnail_dir), files=VideoFiles(paths, roots=[library["root"]]))


@pytest.fixture(scope="session")
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def live_url(app):
    from viclip.serving import running

    with running(app) as url:
        yield url


_OPENED: list[str] | None = None


def _audit(event: str, args: tuple) -> None:
    if _OPENED is not None and event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        _OPENED.append(os.fsdecode(args[0]))


sys.addaudithook(_audit)


@pytest.fixture
def opened(monkeypatch) -> list[str]:
    """Every file this process opens during the test: Python's opens (an audit hook) and the video decoder's."""
    global _OPENED
    from viclip.serving import thumbnails

    _OPENED = paths = []
    real_read = thumbnails.read_video_clip
    monkeypatch.setattr(
        thumbnails,
        "read_video_clip",
        lambda path, *a, **k: (paths.append(os.fspath(path)), real_read(path, *a, **k))[1],
    )
    yield paths
    _OPENED = None
