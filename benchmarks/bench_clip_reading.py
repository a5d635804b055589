"""Benchmark: reading 8 frames of a 3-second clip at 80% of a long 720p H.264 video.

Compares, in one run and on the same file:
  ours      viclip.read_video_clip (seek to the keyframe before the clip, decode only what is needed)
  (a)       decode every frame with PyAV and convert it to RGB, then sample (the original demo's way,
            which read every frame with OpenCV)
  (b)       transformers.video_utils.load_video(..., backend="pyav") with the same frame indices

The video (default 5 minutes, 1280x720, 30 fps, a keyframe every 2 s) is generated once with PyAV's
libx264 and cached in the temp directory.

    python benchmarks/bench_clip_reading.py [--minutes 5] [--repeats 10] [--threads 0]
"""

import argparse
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from tqdm import tqdm

from viclip import read_video_clip
from viclip.inference.dtype_choice import cpu_kind
from viclip.processing import sample_frame_indices

WIDTH, HEIGHT, FPS, KEYINT_SEC = 1280, 720, 30, 2
CLIP_SEC, CLIP_POSITION, NUM_FRAMES = 3.0, 0.8, 8


def generate_video(path: Path, minutes: float) -> Path:
    """A moving textured 720p H.264 video, written once (fast preset, modest bitrate)."""
    if path.exists():
        return path
    total = int(minutes * 60 * FPS)
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH]
    texture = ((np.sin(xx / 37.0) + np.cos(yy / 23.0)) * 60 + 128).astype(np.uint8)
    partial = path.with_suffix(".partial.mp4")
    with av.open(str(partial), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {
            "preset": "ultrafast",
            "crf": "30",
            "x264-params": f"keyint={KEYINT_SEC * FPS}:min-keyint={KEYINT_SEC * FPS}:scenecut=0",
        }
        # A cycle of distinct frames (a texture scrolling at different speeds per channel).
        cycle = []
        for k in range(FPS * 2):
            rgb = np.stack(
                [np.roll(texture, 4 * k, 1), np.roll(texture, 3 * k, 0), np.roll(texture, -2 * k, 1)], -1
            )
            cycle.append(av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p"))
        for i in tqdm(range(total), desc=f"generating {path.name}", unit="frame"):
            frame = cycle[i % len(cycle)]
            frame.pts, frame.time_base = i, Fraction(1, FPS)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    partial.rename(path)
    return path


def clip_frame_indices(start_sec: float, end_sec: float) -> list[int]:
    first, last = round(start_sec * FPS), round(end_sec * FPS)
    return [first + i for i in sample_frame_indices(last - first, NUM_FRAMES, "middle")]


def decode_everything(path: Path, indices: list[int]) -> np.ndarray:
    """(a) Decode and convert every frame (as OpenCV's read loop does), keep the sampled ones."""
    wanted, frames = set(indices), {}
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for i, frame in enumerate(container.decode(stream)):
            rgb = frame.to_ndarray(format="rgb24")
            if i in wanted:
                frames[i] = rgb
    return np.stack([frames[i] for i in indices])


def transformers_load_video(path: Path, indices: list[int]) -> np.ndarray:
    """(b) transformers' PyAV loader with the same indices."""
    from transformers.video_utils import load_video

    frames, _ = load_video(
        str(path), backend="pyav", sample_indices_fn=lambda metadata, **_: np.array(indices)
    )
    return frames


def timed(fn, repeats: int) -> tuple[float, object]:
    """Mean seconds per call over ``repeats`` calls, and the last result."""
    start = time.perf_counter()
    for _ in range(repeats):
        result = fn()
    return (time.perf_counter() - start) / repeats, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0, help="length of the generated video")
    parser.add_argument("--repeats", type=int, default=10, help="timed reads with read_video_clip")
    parser.add_argument("--baseline-repeats", type=int, default=1, help="timed reads for each baseline")
    parser.add_argument("--threads", type=int, default=0, help="decoding threads for read_video_clip")
    parser.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "viclip_bench")
    args = parser.parse_args(argv)
    print(f"CPU: {cpu_kind().describe()}", flush=True)  # figures hold for this CPU kind only

    args.cache_dir.mkdir(parents=True, exist_ok=True)
    path = generate_video(args.cache_dir / f"bench_{args.minutes:g}min_720p_h264.mp4", args.minutes)
    duration = args.minutes * 60
    start = round(CLIP_POSITION * duration, 3)
    end = start + CLIP_SEC
    indices = clip_frame_indices(start, end)

    ours, info = read_video_clip(path, start, end, NUM_FRAMES, "middle", num_threads=args.threads)
    assert info.frame_indices == indices, (info.frame_indices, indices)
    t_ours, _ = timed(
        lambda: read_video_clip(path, start, end, NUM_FRAMES, "middle", num_threads=args.threads),
        args.repeats,
    )
    t_all, frames_all = timed(lambda: decode_everything(path, indices), args.baseline_repeats)
    t_hf, frames_hf = timed(lambda: transformers_load_video(path, indices), args.baseline_repeats)

    # All three return the same pixels.
    np.testing.assert_array_equal(ours, frames_all)
    np.testing.assert_array_equal(ours, frames_hf)

    print(
        f"\nvideo: {path} ({args.minutes:g} min, {WIDTH}x{HEIGHT}, {FPS} fps, keyframe every {KEYINT_SEC} s)"
    )
    print(f"clip: [{start:.1f}, {end:.1f}) s, {NUM_FRAMES} frames {indices}\n")
    print("| method | s/clip | clips/s | read_video_clip speed-up |")
    print("|---|---|---|---|")
    rows = [
        ("viclip.read_video_clip", t_ours),
        ("(a) decode every frame, then sample", t_all),
        ('(b) transformers load_video(backend="pyav")', t_hf),
    ]
    for name, seconds in rows:
        print(f"| {name} | {seconds:.3f} | {1 / seconds:.2f} | {seconds / t_ours:.1f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
