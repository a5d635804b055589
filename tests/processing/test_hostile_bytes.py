"""Seeded fuzz: damaged copies of small videos in each codec/container either read or raise VideoDecodeError,
through every library reader, within a deadline."""

from __future__ import annotations

import concurrent.futures
import contextlib
from pathlib import Path

import av
import numpy as np
import pytest

from viclip.embedding.inputs import probe_extent
from viclip.processing import VideoDecodeError, read_video_clip
from viclip.processing.video_reading import decode_errors
from viclip.scoring.vbench import read_vbench_frames

DEADLINE_SEC = 20
FORMATS = [("h264", "mp4"), ("mpeg4", "mkv"), ("libvpx-vp9", "webm")]


def _write(path: Path, codec: str, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=8)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        for _ in range(12):
            frame = rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def _damaged(data: bytes, other: bytes, rng: np.random.Generator) -> dict[str, bytes]:
    size = len(data)
    flipped = bytearray(data)
    for at in rng.integers(0, size, 20):
        flipped[at] ^= 1 << int(rng.integers(0, 8))
    cut = int(rng.integers(size // 4, 3 * size // 4))
    chunk = int(rng.integers(size // 4, size // 2))
    return {
        "bit_flips": bytes(flipped),
        "scrambled_header": rng.permutation(np.frombuffer(data[:64], np.uint8)).tobytes() + data[64:],
        "scrambled_tail": data[: size - 256] + rng.integers(0, 256, 256, dtype=np.uint8).tobytes(),
        "zeroed_chunk": data[:cut] + bytes(256) + data[cut + 256 :],
        "spliced_chunk": data[:chunk] + other[chunk : chunk + 512] + data[chunk + 512 :],
        **{f"truncated_{f}": data[: int(size * f)] for f in (0.1, 0.5, 0.9)},
    }


READERS = {
    "clip": lambda path: read_video_clip(path, num_frames=4),
    "vbench": lambda path: read_vbench_frames(path, 4),
    "probe": probe_extent,
}


@pytest.fixture(scope="module")
def damaged_videos(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("hostile")
    available = av.codecs_available
    rng = np.random.default_rng(34)
    written = [
        _write(folder / f"good_{c}.{ext}", c, i) for i, (c, ext) in enumerate(FORMATS) if c in available
    ]
    paths = []
    for index, good in enumerate(written):
        other = written[(index + 1) % len(written)].read_bytes()
        for kind, data in _damaged(good.read_bytes(), other, rng).items():
            path = folder / f"{good.stem}_{kind}{good.suffix}"
            path.write_bytes(data)
            paths.append(path)
    return paths


@pytest.mark.parametrize("reader", sorted(READERS))
def test_damaged_video_reads_or_raises_video_decode_error(damaged_videos, reader):
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        for path in damaged_videos:
            future = pool.submit(READERS[reader], str(path))
            try:
                future.result(timeout=DEADLINE_SEC)
            except VideoDecodeError as error:
                assert str(path) in str(error)


def test_scrambled_tail_mp4_raises_video_decode_error_not_attribute_error(damaged_videos):
    path = next(p for p in damaged_videos if p.name == "good_h264_scrambled_tail.mp4")
    for read in READERS.values():
        with contextlib.suppress(VideoDecodeError):
            read(str(path))


@pytest.mark.parametrize(
    "raised", [AttributeError("'NoneType' object has no attribute 'width'"), EOFError(), MemoryError()]
)
def test_decode_errors_names_file_and_cause_for_any_pyav_failure(raised):
    with (
        pytest.raises(VideoDecodeError, match=rf"bad\.mp4.*{type(raised).__name__}"),
        decode_errors("bad.mp4"),
    ):
        raise raised
