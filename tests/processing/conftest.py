"""Fixtures for the processing tests: small generated videos whose frames encode their own index."""

from fractions import Fraction
from pathlib import Path

import av
import pytest

from viclip_testing import INDEX_WIDTH as WIDTH
from viclip_testing import decode_index, index_frame  # noqa: F401  (re-exported to the processing tests)

ASSETS = Path(__file__).resolve().parents[1] / "assets"
EXAMPLE_VIDEO = ASSETS / "example1.mp4"


HEIGHT = 48


def write_index_video(
    path: Path,
    num_frames: int,
    fps: int = 10,
    keyint: int = 10,
    bframes: int = 2,
    times_ms: list[int] | None = None,
    rotation: int | None = None,
    faststart: bool = False,
) -> Path:
    """An H.264 mp4 whose frame ``i`` shows ``i`` in binary; ``times_ms`` gives variable frame times."""
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(path), "w", options=options) as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {
            "preset": "veryfast",
            "crf": "12",
            "x264-params": f"keyint={keyint}:min-keyint={keyint}:scenecut=0:bframes={bframes}",
        }
        if times_ms is not None:
            stream.time_base = stream.codec_context.time_base = Fraction(1, 1000)
        if rotation is not None:
            stream.set_display_rotation(rotation)
        for i in range(num_frames):
            frame = av.VideoFrame.from_ndarray(index_frame(i), format="rgb24")
            if times_ms is not None:
                frame.pts, frame.time_base = times_ms[i], Fraction(1, 1000)
            else:
                frame.pts = i
                frame.time_base = Fraction(1, fps)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.fixture(scope="session")
def video_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("videos")


@pytest.fixture(scope="session")
def index_video(video_dir) -> Path:
    """60 frames at 10 fps (6 s), keyframe every 10 frames, B-frames."""
    return write_index_video(video_dir / "index_60f_10fps.mp4", 60)


@pytest.fixture(scope="session")
def vfr_video(video_dir) -> tuple[Path, list[int]]:
    """40 frames: the first 20 at 10 fps, the next 20 at 20 fps."""
    times = [i * 100 for i in range(20)] + [2000 + i * 50 for i in range(20)]
    return write_index_video(video_dir / "index_vfr.mp4", 40, times_ms=times), times


@pytest.fixture(scope="session")
def short_video(video_dir) -> Path:
    return write_index_video(video_dir / "index_3f.mp4", 3)


@pytest.fixture(scope="session")
def rotated_video(video_dir) -> Path:
    return write_index_video(video_dir / "index_rot90.mp4", 20, rotation=90)
