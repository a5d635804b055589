"""read_video_clip: the right frames at the right timestamps, and a clear error for every bad input."""

import math
import shutil
import wave

import numpy as np
import pytest

from viclip import ClipRangeError, VideoDecodeError, read_video_clip
from viclip.processing import ClipRangeWarning, sample_frame_indices

from .conftest import EXAMPLE_VIDEO, decode_index, write_index_video


def shown_indices(frames: np.ndarray) -> list[int]:
    return [decode_index(frame) for frame in frames]


# --- sampling -------------------------------------------------------------------------------------


def test_middle_sampling_takes_the_middle_frame_of_eight_equal_segments():
    assert sample_frame_indices(40, 8, "middle") == [2, 7, 12, 17, 22, 27, 32, 37]
    assert sample_frame_indices(60, 8, "middle") == [3, 10, 18, 25, 33, 40, 48, 55]


def test_demo_sampling_takes_every_nth_frame_from_zero():
    assert sample_frame_indices(40, 8, "demo") == [0, 5, 10, 15, 20, 25, 30, 35]
    assert sample_frame_indices(17, 8, "demo") == [0, 2, 4, 6, 8, 10, 12, 14]


def test_random_sampling_draws_one_frame_per_segment_reproducibly():
    first = sample_frame_indices(80, 8, "random", seed=3)
    assert first == sample_frame_indices(80, 8, "random", seed=3)
    assert first != sample_frame_indices(80, 8, "random", seed=4)
    for k, index in enumerate(first):  # segment k is [10k, 10k + 10); its last frame is never drawn
        assert 10 * k <= index < 10 * k + 9


@pytest.mark.parametrize("sampling", ["middle", "random", "demo"])
def test_fewer_frames_than_requested_repeat_the_last_frame(sampling):
    assert sample_frame_indices(3, 8, sampling, seed=0) == [0, 1, 2, 2, 2, 2, 2, 2]


def test_unknown_sampling_and_bad_num_frames_are_rejected():
    with pytest.raises(ValueError, match="sampling must be one of"):
        sample_frame_indices(10, 8, "uniform")
    with pytest.raises(ValueError, match="num_frames must be a positive integer"):
        sample_frame_indices(10, 0)


# --- reading the right frames ----------------------------------------------------------------------


def test_demo_sampling_on_example1_gives_the_original_demo_indices():
    frames, info = read_video_clip(EXAMPLE_VIDEO, sampling="demo")
    assert frames.shape == (8, 480, 640, 3) and frames.dtype == np.uint8
    assert info.frame_indices == [0, 5, 10, 15, 20, 25, 30, 35]
    assert info.timestamps == pytest.approx([0, 1, 2, 3, 4, 5, 6, 7])
    assert info.fps == 5.0 and info.duration == 8.0 and info.num_range_frames == 40


def test_whole_video_frames_match_their_indices(index_video):
    frames, info = read_video_clip(index_video)
    assert info.frame_indices == [3, 10, 18, 25, 33, 40, 48, 55]
    assert shown_indices(frames) == info.frame_indices


def test_range_starting_between_keyframes_returns_frames_at_the_right_timestamps(index_video):
    # 10 fps, keyframes at 0, 1, 2, ... s; [2.35, 4.0) holds frames 24..39 (16 frames).
    frames, info = read_video_clip(index_video, 2.35, 4.0)
    assert info.num_range_frames == 16
    assert info.frame_indices == [24, 26, 28, 30, 32, 34, 36, 38]
    assert shown_indices(frames) == info.frame_indices
    assert info.timestamps == pytest.approx([i / 10 for i in info.frame_indices])
    assert (info.start_sec, info.end_sec, info.clamped) == (2.35, 4.0, False)


@pytest.mark.parametrize("start", [0.0, 0.95, 1.0, 3.05, 4.2, 5.0])
def test_one_second_ranges_anywhere_return_the_frames_inside_them(index_video, start):
    frames, info = read_video_clip(index_video, start, start + 1.0, num_frames=4, sampling="demo")
    first = math.ceil(start * 10 - 1e-9)
    assert info.frame_indices[0] == first
    assert shown_indices(frames) == info.frame_indices
    assert all(start <= t < start + 1.0 for t in info.timestamps)


def test_random_sampling_is_seeded(index_video):
    a_frames, a = read_video_clip(index_video, 1.0, 5.0, sampling="random", seed=7)
    _, b = read_video_clip(index_video, 1.0, 5.0, sampling="random", seed=7)
    _, c = read_video_clip(index_video, 1.0, 5.0, sampling="random", seed=8)
    assert a.frame_indices == b.frame_indices != c.frame_indices
    assert shown_indices(a_frames) == a.frame_indices


def test_variable_frame_rate_ranges_follow_timestamps(vfr_video):
    path, times_ms = vfr_video
    frames, info = read_video_clip(path, 1.5, 2.5)
    # Frames 15..19 are 100 ms apart, 20..29 50 ms apart: 15 frames in the range.
    assert info.num_range_frames == 15
    assert shown_indices(frames) == info.frame_indices == [15, 16, 18, 20, 22, 24, 26, 28]
    assert info.timestamps == pytest.approx([times_ms[i] / 1000 for i in info.frame_indices])


def test_matroska_without_a_full_frame_index_still_reads_the_right_frames(video_dir, index_video):
    mkv = video_dir / "index.mkv"
    import av

    with av.open(str(index_video)) as src, av.open(str(mkv), "w") as dst:
        out = dst.add_stream_from_template(src.streams.video[0])
        for packet in src.demux(src.streams.video[0]):
            if packet.dts is not None:
                packet.stream = out
                dst.mux(packet)
    frames, info = read_video_clip(mkv, 2.35, 4.0)
    assert shown_indices(frames) == info.frame_indices == [24, 26, 28, 30, 32, 34, 36, 38]


def test_rotation_metadata_is_applied(rotated_video):
    frames, info = read_video_clip(rotated_video, num_frames=4)
    assert info.rotation == 90
    assert frames.shape == (4, 128, 48, 3)  # stored 128x48 (w x h), displayed upright as 48 wide
    assert shown_indices(np.rot90(frames, -1, axes=(1, 2))) == info.frame_indices


def test_short_video_repeats_frames(short_video):
    frames, info = read_video_clip(short_video)
    assert info.frame_indices == [0, 1, 2, 2, 2, 2, 2, 2]
    assert shown_indices(frames) == info.frame_indices


def test_thread_count_does_not_change_the_frames(index_video):
    single, _ = read_video_clip(index_video, 1.2, 4.4, num_threads=1)
    multi, _ = read_video_clip(index_video, 1.2, 4.4, num_threads=2)
    np.testing.assert_array_equal(single, multi)


# --- ranges ----------------------------------------------------------------------------------------


def test_range_past_the_end_is_clamped_with_a_warning(index_video):
    with pytest.warns(ClipRangeWarning, match=r"clamped to \[5.000, 6.000\)"):
        frames, info = read_video_clip(index_video, 5.0, 9.0, num_frames=2, sampling="demo")
    assert info.clamped and info.end_sec == 6.0
    assert shown_indices(frames) == [50, 55]


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (-1.0, 2.0, "start_sec is negative"),
        (1.0, -2.0, "end_sec is negative"),
        (3.0, 3.0, r"range \[3, 3\) s is empty"),
        (4.0, 2.0, r"range \[4, 2\) s is empty"),
        (None, 0.0, r"range \[0, 0\) s is empty"),
        (6.5, 8.0, r"range \[6.500, 8.000\) s starts after the end of the video \(the video is 6.000 s long"),
        (float("nan"), 2.0, "finite number"),
    ],
)
def test_bad_ranges_raise_clip_range_error(index_video, start, end, message):
    with pytest.raises(ClipRangeError, match=message) as error:
        read_video_clip(index_video, start, end)
    assert isinstance(error.value, ValueError) and isinstance(error.value, VideoDecodeError)
    assert str(index_video) in str(error.value)


def test_a_range_between_two_frames_names_the_range_and_the_real_duration(index_video):
    # Regression: the message claimed "the last frame of the video is at 0.200 s" for a 6 s video (it named
    # the last frame demuxed near the range, not the last frame of the video).
    with pytest.raises(ClipRangeError) as error:
        read_video_clip(index_video, 1.01, 1.05)
    message = str(error.value)
    assert (
        "no frames in the requested range [1.010, 1.050) s (the video is 6.000 s long, 10 frames/s)"
        in message
    )
    assert "last frame" not in message


# --- bad files -------------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(VideoDecodeError, match=r"missing\.mp4': file not found"):
        read_video_clip(tmp_path / "missing.mp4")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.mp4"
    path.write_bytes(b"")
    with pytest.raises(VideoDecodeError, match="file is empty"):
        read_video_clip(path)


def test_directory(tmp_path):
    with pytest.raises(VideoDecodeError, match="is a directory"):
        read_video_clip(tmp_path)


def test_text_file_is_not_a_video(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("this is not a video\n" * 50)
    with pytest.raises(VideoDecodeError, match="not a readable media file"):
        read_video_clip(path)


def test_audio_only_file_has_no_video_stream(tmp_path):
    path = tmp_path / "tone.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(np.zeros(8000, dtype=np.int16).tobytes())
    with pytest.raises(VideoDecodeError, match="no video stream"):
        read_video_clip(path)


def test_truncated_mp4_without_its_index_cannot_be_opened(tmp_path, index_video):
    path = tmp_path / "cut.mp4"
    data = index_video.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # moov (the index) is at the end: gone
    with pytest.raises(VideoDecodeError, match="not a readable media file"):
        read_video_clip(path)


def test_truncated_faststart_mp4_fails_on_the_missing_part(tmp_path):
    whole = write_index_video(tmp_path / "whole.mp4", 60, faststart=True)
    path = tmp_path / "cut_faststart.mp4"
    data = whole.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(VideoDecodeError, match=r"cut_faststart\.mp4"):
        read_video_clip(path, 4.5, 5.5)


def test_corrupted_payload_raises_decode_error_or_reads(tmp_path, index_video):
    # Garbage in the middle of the media data: either decodable frames or VideoDecodeError, never a hang.
    path = tmp_path / "garbled.mp4"
    shutil.copy(index_video, path)
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 2000] = bytes(range(256)) * 7 + bytes(208)
    path.write_bytes(bytes(data))
    try:
        frames, _ = read_video_clip(path)
    except VideoDecodeError as error:
        assert "garbled.mp4" in str(error)
    else:
        assert frames.shape == (8, 48, 128, 3)


def test_bad_arguments_are_rejected(index_video):
    with pytest.raises(ValueError, match="sampling must be one of"):
        read_video_clip(index_video, sampling="uniform")
    with pytest.raises(ValueError, match="num_frames must be a positive integer"):
        read_video_clip(index_video, num_frames=0)
    with pytest.raises(ValueError, match="num_threads"):
        read_video_clip(index_video, num_threads=-1)
