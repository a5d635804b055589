"""Hostile files cost at most their deadline: FIFOs and symlink loops are refused before opening, frames above the
pixel budget before decoding, and a read that outlives its deadline is given up (its thread stops itself)."""

from __future__ import annotations

import os
import threading
import time

import av
import pytest

from viclip.processing import ViCLIPVideoProcessor, VideoDecodeError, VideoDecodeTimeout, read_video_clip
from viclip.processing.video_reading import DEFAULT_MAX_PIXELS, run_with_deadline
from viclip_testing import write_header_only_video


def _reader_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("read_video_clip ")]


def test_a_fifo_named_mp4_is_refused_at_once_instead_of_blocking_on_open(tmp_path):
    fifo = tmp_path / "stream.mp4"
    os.mkfifo(fifo)
    start = time.monotonic()
    with pytest.raises(VideoDecodeError, match=r"stream\.mp4': is not a regular file \(a FIFO\)"):
        read_video_clip(fifo)
    assert time.monotonic() - start < 1.0


def test_a_symlink_loop_is_refused_naming_the_loop(tmp_path):
    (tmp_path / "a.mp4").symlink_to(tmp_path / "b.mp4")
    (tmp_path / "b.mp4").symlink_to(tmp_path / "a.mp4")
    with pytest.raises(
        VideoDecodeError, match=r"a\.mp4': cannot be opened \(Too many levels of symbolic links\)"
    ):
        read_video_clip(tmp_path / "a.mp4")


def test_frames_above_the_pixel_budget_are_refused_from_the_header_before_decoding(tmp_path, index_video):
    huge = write_header_only_video(tmp_path / "huge.mkv", 12000, 12000)  # 144 MP; FFmpeg caps near 16k x 16k
    assert DEFAULT_MAX_PIXELS < 12000 * 12000
    with pytest.raises(VideoDecodeError, match=r"huge\.mkv': its frames are 12000x12000 pixels, above the budget of "
                       r"67108864 pixels \(8192x8192; max_pixels\); not decoded"):  # fmt: skip
        read_video_clip(huge)
    # the budget is the caller's: the 128x48 test video fits 6144 pixels, not 6000
    assert read_video_clip(index_video, max_pixels=128 * 48)[0].shape[1:3] == (48, 128)
    with pytest.raises(
        VideoDecodeError, match="its frames are 128x48 pixels, above the budget of 6000 pixels"
    ):
        read_video_clip(index_video, max_pixels=6000)


def test_a_read_past_its_deadline_is_given_up_and_its_thread_stops_itself(index_video):
    with pytest.raises(VideoDecodeTimeout, match=r"no frames after the 0.0001 s deadline \(decode_timeout\)"):
        read_video_clip(index_video, timeout=1e-4)  # opening alone takes longer
    deadline = time.monotonic() + 10
    while _reader_threads() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not _reader_threads(), "the abandoned read must stop at its next packet"
    frames, _ = read_video_clip(index_video, timeout=30)  # the same read with time to finish
    assert frames.shape[0] == 8


def test_the_deadline_bounds_an_ffmpeg_call_blocked_in_the_kernel(tmp_path):
    """What Python cannot interrupt (av.open on a FIFO waits for a writer): the caller still returns on time."""
    fifo = tmp_path / "blocked.mp4"
    os.mkfifo(fifo)
    start = time.monotonic()
    with pytest.raises(VideoDecodeTimeout, match=r"blocked\.mp4': no frames after the 0.3 s deadline"):
        run_with_deadline(str(fifo), 0.3, lambda: av.open(str(fifo)))
    assert 0.3 <= time.monotonic() - start < 2.0
    os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))  # a writer comes and goes: the blocked open returns
    deadline = time.monotonic() + 10
    while _reader_threads() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not _reader_threads()


def test_errors_inside_the_deadline_thread_reach_the_caller_unchanged(tmp_path, index_video):
    with pytest.raises(VideoDecodeError, match="file not found"):
        read_video_clip(tmp_path / "missing.mp4", timeout=5)
    with pytest.raises(ValueError, match="timeout must be a positive number of seconds"):
        read_video_clip(index_video, timeout=0)
    with pytest.raises(ValueError, match="max_pixels must be a positive integer"):
        read_video_clip(index_video, max_pixels=-1)


def test_the_video_processor_passes_its_decode_limits_to_the_reader(tmp_path, index_video):
    processor = ViCLIPVideoProcessor.for_model(image_size=32, num_frames=4)
    huge = write_header_only_video(tmp_path / "huge.mkv", 12000, 12000)
    with pytest.raises(VideoDecodeError, match="above the budget of 67108864 pixels"):
        processor(videos=[str(huge)])  # the reader's defaults
    with pytest.raises(VideoDecodeError, match="above the budget of 100 pixels"):
        processor(videos=[str(index_video)], max_pixels=100)
    with pytest.raises(VideoDecodeTimeout):
        processor(videos=[str(index_video)], decode_timeout=1e-4)
    assert (
        processor(videos=[str(index_video)], decode_timeout=float("inf"))["pixel_values_videos"].shape[1] == 4
    )
