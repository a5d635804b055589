"""Scoring fixtures: a tiny ViCLIP at VBench's 224 px, and small videos whose frame ``i`` shows ``i`` in binary,
encoded the ways decord and PyAV can disagree on (B-frames, open GOP, an edit list, WebM without a frame count)."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import pytest

from viclip_testing import INDEX_WIDTH as WIDTH
from viclip_testing import decode_index, index_frame  # noqa: F401  (re-exported to the scoring tests)

HEIGHT = 96


def encode(path: Path, num_frames: int, codec: str = "libx264", params: str = "", fps: int = 24) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        if codec == "libx264":
            stream.options = {"crf": "10", "x264-params": params or "bframes=3:keyint=12"}
        for i in range(num_frames):
            frame = av.VideoFrame.from_ndarray(index_frame(i, HEIGHT), format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def remux_shifted(source: Path, target: Path, shift_frames: int) -> Path:
    """``source`` with every timestamp moved by ``shift_frames`` (negative: the first frames fall before zero, so
    the MP4 muxer writes an edit list that trims them: packets stay, decoded frames go)."""
    with av.open(str(source)) as inp, av.open(str(target), "w") as out:
        stream = inp.streams.video[0]
        copy = out.add_stream_from_template(stream)
        step = int(1 / (stream.average_rate * stream.time_base))
        for packet in inp.demux(stream):
            if packet.dts is None:
                continue
            packet.stream = copy
            packet.pts += shift_frames * step
            packet.dts += shift_frames * step
            out.mux(packet)
    return target


@pytest.fixture(scope="session")
def codec_videos(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("codec-videos")
    videos = {
        "bframes": encode(folder / "bframes.mp4", 50),
        "no_bframes": encode(folder / "no_bframes.mp4", 40, params="bframes=0:keyint=10"),
        "webm": encode(folder / "vp9.webm", 30, codec="libvpx-vp9"),
        "short": encode(folder / "short.mp4", 5),
    }
    videos["edit_list"] = remux_shifted(
        encode(folder / "plain.mp4", 50, params="bframes=0:keyint=12"), folder / "trimmed.mp4", -3
    )
    return videos


@pytest.fixture(scope="session")
def vbench_model_dir(tmp_path_factory) -> Path:
    """A random tiny ViCLIP at 224 px (patch 32: 49 patches), the full CLIP vocabulary, and its processor."""
    import torch

    from viclip import ViCLIPConfig, ViCLIPModel, ViCLIPProcessor

    torch.manual_seed(0)
    vision = dict(
        image_size=224,
        patch_size=32,
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=128,
        num_frames=8,
    )
    text = dict(hidden_size=48, num_hidden_layers=2, num_attention_heads=4, intermediate_size=96)
    model = ViCLIPModel(ViCLIPConfig(vision_config=vision, text_config=text, projection_dim=32)).eval()
    folder = tmp_path_factory.mktemp("tiny-viclip-224")
    model.save_pretrained(folder)
    ViCLIPProcessor.for_model(image_size=224, num_frames=8).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def prompt_videos(tmp_path_factory) -> Path:
    """VBench custom-input style: '{prompt}-{i}.mp4' files (and a text file VBench ignores)."""
    folder = tmp_path_factory.mktemp("prompt-videos")
    for name in ("a cat runs-0", "a cat runs-1", "a red car-0"):
        encode(folder / f"{name}.mp4", 12)
    (folder / "notes.txt").write_text("not a video")
    return folder


@pytest.fixture(scope="session", autouse=True)
def reference_cache_dir(tmp_path_factory) -> Iterator[Path]:
    """The reference captions' feature cache of these tests: a session folder, never the user's ~/.cache."""
    import os

    folder = tmp_path_factory.mktemp("reference-cache")
    previous = os.environ.get("VICLIP_CACHE")
    os.environ["VICLIP_CACHE"] = str(folder)
    yield folder / "reference-features"
    if previous is None:
        os.environ.pop("VICLIP_CACHE", None)
    else:
        os.environ["VICLIP_CACHE"] = previous
