"""The synthetic InternVid generator: schema, determinism, and motion that matches the captions."""

from __future__ import annotations

import numpy as np
import pytest

from viclip.data.annotations import parse_row
from viclip.data.synthetic import COLORS, generate_synthetic_internvid
from viclip.processing import read_video_clip

from .conftest import CLIPS_PER_VIDEO, NUM_VIDEOS, read_jsonl


def test_rows_follow_the_internvid_schema(synthetic):
    rows = read_jsonl(synthetic.annotations)
    assert len(rows) == synthetic.num_clips == NUM_VIDEOS * CLIPS_PER_VIDEO
    assert set(rows[0]) == {
        "YoutubeID",
        "Start_timestamp",
        "End_timestamp",
        "Caption",
        "Aesthetic_Score",
        "UMT_Score",
    }
    assert len(synthetic.video_paths) == NUM_VIDEOS
    for row in rows:
        clip = parse_row(row)
        assert len(clip.youtube_id) == 11
        assert 0 <= clip.start_sec < clip.end_sec <= 3.0
        assert (synthetic.video_dir / f"{clip.youtube_id}.mp4").is_file()


def _centroid(frame: np.ndarray, color: tuple[int, int, int]) -> np.ndarray:
    mask = np.abs(frame.astype(int) - np.array(color)).sum(-1) < 90
    assert mask.sum() > 20, "shape not found"
    ys, xs = np.nonzero(mask)
    return np.array([xs.mean(), ys.mean()])


def test_captions_name_the_colour_shape_and_direction_seen_in_the_frames(synthetic):
    expected_step = {"left": (-1, 0), "right": (1, 0), "up": (0, -1), "down": (0, 1)}
    for row in read_jsonl(synthetic.annotations):
        clip = parse_row(row)
        words = clip.caption.split()
        color, shape, direction = words[1], words[2], words[-1]
        assert shape in ("circle", "square", "triangle")
        frames, _ = read_video_clip(
            synthetic.video_dir / f"{clip.youtube_id}.mp4", clip.start_sec, clip.end_sec, 2
        )
        motion = _centroid(frames[-1], COLORS[color]) - _centroid(frames[0], COLORS[color])
        dx, dy = expected_step[direction]
        along = motion @ np.array([dx, dy])
        assert along > 10, f"{clip.caption}: moved {motion}"
        assert abs(motion @ np.array([dy, dx])) < 3


def test_same_seed_writes_the_same_dataset(tmp_path):
    kwargs = dict(num_videos=2, clips_per_video=2, seconds=2.0, size=32, fps=4, progress=False)
    a = generate_synthetic_internvid(tmp_path / "a", seed=3, **kwargs)
    b = generate_synthetic_internvid(tmp_path / "b", seed=3, **kwargs)
    c = generate_synthetic_internvid(tmp_path / "c", seed=4, **kwargs)
    assert a.annotations.read_text() == b.annotations.read_text() != c.annotations.read_text()
    for pa, pb in zip(a.video_paths, b.video_paths):
        fa, _ = read_video_clip(pa, num_frames=8)
        fb, _ = read_video_clip(pb, num_frames=8)
        assert np.array_equal(fa, fb)


def test_held_out_split_and_pre_cut_clips(tmp_path):
    ds = generate_synthetic_internvid(
        tmp_path, num_videos=3, clips_per_video=2, seconds=2.0, size=(48, 32), fps=4, held_out_videos=1,
        precut=True, progress=False,
    )  # fmt: skip
    train, held = read_jsonl(ds.annotations), read_jsonl(ds.held_out_annotations)
    assert (len(train), len(held)) == (ds.num_clips, ds.num_held_out_clips) == (4, 2)
    assert {r["YoutubeID"] for r in train}.isdisjoint({r["YoutubeID"] for r in held})
    assert len(ds.video_paths) == 6
    row = parse_row(held[0])
    clip = ds.video_dir / f"{row.youtube_id}_{row.start_sec:.3f}_{row.end_sec:.3f}.mp4"
    frames, _ = read_video_clip(clip, num_frames=2)
    assert frames.shape == (2, 32, 48, 3)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"size": 31}, "even"),
        ({"num_videos": 0}, "num_videos"),
        ({"held_out_videos": 2, "num_videos": 2}, "held_out_videos"),
        ({"seconds": 0.5, "fps": 2}, "fewer than 2 frames"),
    ],
)
def test_bad_arguments_raise_before_writing(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        generate_synthetic_internvid(tmp_path / "x", progress=False, **kwargs)
    assert not (tmp_path / "x" / "annotations.jsonl").exists()
