"""Joining rows to whole videos or pre-cut clips under video_root."""

from __future__ import annotations

import pytest

from viclip.data.video_locator import VideoLocator, clip_filename
from viclip.processing import VideoClip


def test_clip_filename_uses_seconds_with_three_decimals():
    assert clip_filename("HdYoyzCSWyw", 190.567, 191.2) == "HdYoyzCSWyw_190.567_191.200.mp4"


def test_whole_video_in_any_supported_container_is_found_with_its_segment(tmp_path):
    (tmp_path / "abc_DEF-123.webm").write_bytes(b"x")
    location = VideoLocator(tmp_path).locate("abc_DEF-123", 1.5, 2.0)
    assert location == VideoClip(str(tmp_path / "abc_DEF-123.webm"), 1.5, 2.0)


def test_pre_cut_clip_wins_over_the_whole_video_and_is_read_whole(tmp_path):
    (tmp_path / "abc_DEF-123.mp4").write_bytes(b"x")
    (tmp_path / clip_filename("abc_DEF-123", 1.5, 2.0)).write_bytes(b"x")
    location = VideoLocator(tmp_path).locate("abc_DEF-123", 1.5, 2.0)
    assert location == VideoClip(str(tmp_path / "abc_DEF-123_1.500_2.000.mp4"))
    # another segment of the same video falls back to the whole video
    assert VideoLocator(tmp_path).locate("abc_DEF-123", 3.0, 4.0).path == str(tmp_path / "abc_DEF-123.mp4")


def test_missing_video_is_none_and_missing_root_raises(tmp_path):
    assert VideoLocator(tmp_path).locate("nothing0000", 0.0, 1.0) is None
    with pytest.raises(FileNotFoundError, match="not a folder"):
        VideoLocator(tmp_path / "absent")
