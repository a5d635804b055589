"""Synthetic InternVid: small h264 videos of moving coloured shapes with InternVid-format annotations.

Each source video is cut into ``clips_per_video`` equal segments; in each segment one shape
(colour x shape) crosses the frame in one direction, and the annotation row for the segment says so:
``"a red circle moves to the left"``. The direction of motion can only be read across frames, so a
model that fits these captions must use time. Everything is seeded and deterministic.

Python API: :func:`generate_synthetic_internvid`. Command line: ``viclip synthetic --help``.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from tqdm.auto import tqdm

from .annotations import format_timestamp
from .video_locator import clip_filename

logger = logging.getLogger(__name__)

COLORS: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "green": (30, 200, 40),
    "blue": (40, 70, 235),
    "yellow": (235, 220, 30),
    "white": (245, 245, 245),
    "purple": (160, 40, 210),
}
SHAPES: tuple[str, ...] = ("circle", "square", "triangle")
DIRECTIONS: tuple[str, ...] = ("left", "right", "up", "down")
_YOUTUBE_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@dataclass(frozen=True)
class SyntheticClip:
    """What happens in one annotated segment of a synthetic video."""

    color: str
    shape: str
    direction: str

    @property
    def caption(self) -> str:
        motion = (
            f"moves to the {self.direction}"
            if self.direction in ("left", "right")
            else f"moves {self.direction}"
        )
        return f"a {self.color} {self.shape} {motion}"


@dataclass
class SyntheticDataset:
    """Paths written by :func:`generate_synthetic_internvid`."""

    root: Path
    video_dir: Path
    annotations: Path
    """JSON Lines in the InternVid schema (training split)."""
    held_out_annotations: Path | None = None
    """JSON Lines of the held-out videos (``None`` when ``held_out_videos=0``)."""
    video_paths: list[Path] = field(default_factory=list)
    num_clips: int = 0
    num_held_out_clips: int = 0


def caption_for(color: str, shape: str, direction: str) -> str:
    """The caption the generator writes for a clip (also handy to build retrieval queries)."""
    return SyntheticClip(color, shape, direction).caption


def _frame_size(size: int | Sequence[int]) -> tuple[int, int]:
    width, height = (size, size) if isinstance(size, int) else tuple(size)
    if width < 16 or height < 16 or width % 2 or height % 2:
        raise ValueError(
            f"size must be even and at least 16 pixels per side (h264 yuv420p), got {width}x{height}"
        )
    return int(width), int(height)


def _shape_mask(shape: str, side: int) -> np.ndarray:
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float32) + 0.5
    c = side / 2
    if shape == "circle":
        return (xx - c) ** 2 + (yy - c) ** 2 <= c * c
    if shape == "square":
        return np.ones((side, side), dtype=bool)
    if shape == "triangle":  # apex up
        return np.abs(xx - c) <= yy / 2
    raise ValueError(f"unknown shape {shape!r}; expected one of {SHAPES}")


def _youtube_like_id(rng: np.random.Generator) -> str:
    return "".join(_YOUTUBE_ID_ALPHABET[i] for i in rng.integers(0, len(_YOUTUBE_ID_ALPHABET), size=11))


def _render_segment(
    background: np.ndarray, clip: SyntheticClip, num_frames: int, rng: np.random.Generator
) -> list[np.ndarray]:
    """Frames of one segment: ``clip.shape`` crosses the frame in ``clip.direction``."""
    height, width = background.shape[:2]
    side = max(4, int(0.28 * min(height, width)))
    mask = _shape_mask(clip.shape, side)
    color = np.asarray(COLORS[clip.color], dtype=np.uint8)
    free_x, free_y = width - side, height - side
    across = rng.uniform(0.25, 0.75)  # position on the axis perpendicular to the motion
    frames = []
    for i in range(num_frames):
        progress = 0.1 + 0.8 * (i / max(1, num_frames - 1))
        if clip.direction in ("left", "right"):
            fx = progress if clip.direction == "right" else 1 - progress
            x, y = round(fx * free_x), round(across * free_y)
        else:
            fy = progress if clip.direction == "down" else 1 - progress
            x, y = round(across * free_x), round(fy * free_y)
        frame = background.copy()
        frame[y : y + side, x : x + side][mask] = color
        frames.append(frame)
    return frames


def _background(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    base = rng.integers(15, 60, size=3)
    ramp = np.linspace(0, 25, width, dtype=np.float32)[None, :, None]
    return np.clip(base[None, None, :] + ramp + np.zeros((height, 1, 1)), 0, 255).astype(np.uint8)


def write_video(
    path: str | os.PathLike, frames: Sequence[np.ndarray], fps: float, keyframe_interval: float = 2.0
) -> None:
    """Encode RGB uint8 frames (H, W, 3) to an h264 mp4, atomically (a temporary file is renamed)."""
    path = Path(path)
    if not frames:
        raise ValueError(f"no frames to write to {path}")
    height, width = frames[0].shape[:2]
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    try:
        with av.open(tmp, mode="w", format="mp4") as container:
            stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.codec_context.gop_size = max(1, round(keyframe_interval * fps))
            stream.options = {"preset": "ultrafast", "crf": "23", "bf": "0"}
            for frame in frames:
                container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
            container.mux(stream.encode(None))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _row(youtube_id: str, start: float, end: float, caption: str, rng: np.random.Generator) -> dict:
    return {
        "YoutubeID": youtube_id,
        "Start_timestamp": format_timestamp(start),
        "End_timestamp": format_timestamp(end),
        "Caption": caption,
        "Aesthetic_Score": round(float(rng.uniform(3.0, 7.0)), 4),
        "UMT_Score": round(float(rng.uniform(0.25, 0.5)), 4),
    }


def generate_synthetic_internvid(
    out_dir: str | os.PathLike,
    num_videos: int = 8,
    clips_per_video: int = 4,
    seconds: float = 4.0,
    size: int | Sequence[int] = 64,
    fps: float = 8.0,
    seed: int = 0,
    held_out_videos: int = 0,
    precut: bool = False,
    keyframe_interval: float = 2.0,
    progress: bool = True,
) -> SyntheticDataset:
    """Write ``num_videos`` synthetic source videos and their InternVid-format annotations.

    Args:
        out_dir: Output folder; gets ``videos/``, ``annotations.jsonl`` and, with ``held_out_videos``,
            ``held_out.jsonl`` (the last ``held_out_videos`` videos, for evaluation).
        num_videos: Number of source videos.
        clips_per_video: Annotated segments per video (one moving shape each).
        seconds: Length of each source video.
        size: Frame size, ``64`` (square) or ``(width, height)`` such as ``(1280, 720)``; even numbers.
        fps: Frame rate.
        seed: Seed of every random choice; the same arguments always write the same files.
        held_out_videos: How many of the videos go to the held-out split.
        precut: Write each annotated segment as its own clip ``{YoutubeID}_{start}_{end}.mp4``
            (see :func:`viclip.data.video_locator.clip_filename`) instead of whole videos.
        keyframe_interval: Seconds between h264 keyframes (YouTube uses a few seconds).
        progress: Show a tqdm bar.

    Returns:
        A :class:`SyntheticDataset` with the paths written.
    """
    if num_videos < 1 or clips_per_video < 1:
        raise ValueError(
            f"num_videos and clips_per_video must be >= 1, got {num_videos} and {clips_per_video}"
        )
    if not 0 <= held_out_videos < num_videos:
        raise ValueError(
            f"held_out_videos must be in [0, num_videos), got {held_out_videos} for {num_videos} videos"
        )
    width, height = _frame_size(size)
    frames_per_segment = int(seconds * fps) // clips_per_video
    if frames_per_segment < 2:
        raise ValueError(
            f"{seconds} s at {fps} fps gives fewer than 2 frames per clip for {clips_per_video} clips per video"
        )
    root = Path(out_dir)
    video_dir = root / "videos"
    video_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    segment_seconds = frames_per_segment / fps
    margin = round(0.05 * segment_seconds, 3)

    rows: list[list[dict]] = []
    video_paths: list[Path] = []
    for _ in tqdm(range(num_videos), desc="synthetic videos", disable=not progress):
        youtube_id = _youtube_like_id(rng)
        background = _background(width, height, rng)
        video_rows, video_frames = [], []
        for j in range(clips_per_video):
            clip = SyntheticClip(
                color=list(COLORS)[rng.integers(len(COLORS))],
                shape=SHAPES[rng.integers(len(SHAPES))],
                direction=DIRECTIONS[rng.integers(len(DIRECTIONS))],
            )
            segment = _render_segment(background, clip, frames_per_segment, rng)
            start = round(j * segment_seconds + margin, 3)
            end = round((j + 1) * segment_seconds - margin, 3)
            row = _row(youtube_id, start, end, clip.caption, rng)
            video_rows.append(row)
            if precut:
                path = video_dir / clip_filename(youtube_id, start, end)
                write_video(path, segment, fps, keyframe_interval)
                video_paths.append(path)
            else:
                video_frames.extend(segment)
        if not precut:
            path = video_dir / f"{youtube_id}.mp4"
            write_video(path, video_frames, fps, keyframe_interval)
            video_paths.append(path)
        rows.append(video_rows)

    train_rows = [r for video in rows[: num_videos - held_out_videos] for r in video]
    held_rows = [r for video in rows[num_videos - held_out_videos :] for r in video]
    annotations = root / "annotations.jsonl"
    _write_jsonl(annotations, train_rows)
    held_out = None
    if held_out_videos:
        held_out = root / "held_out.jsonl"
        _write_jsonl(held_out, held_rows)
    return SyntheticDataset(
        root=root,
        video_dir=video_dir,
        annotations=annotations,
        held_out_annotations=held_out,
        video_paths=video_paths,
        num_clips=len(train_rows),
        num_held_out_clips=len(held_rows),
    )


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    tmp = path.with_name(f".tmp-{path.name}")
    with open(tmp, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    os.replace(tmp, path)
