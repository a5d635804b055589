"""viclip prepare's decode limits: a clip over the pixel budget or past its deadline is skipped with its reason;
a video root holding a FIFO, a symlink loop, a zero-byte and a non-video file costs each row its own reason only."""

from __future__ import annotations

import json
import os
import shutil
import time

from viclip.data.prepare_shard import PrepareSettings, prepare_shard
from viclip_cli.base import build_parser
from viclip_cli.options import DECODE_TIMEOUT, MAX_PIXELS
from viclip_testing import write_header_only_video

from .conftest import read_jsonl


def test_clips_over_the_budget_or_past_the_deadline_are_skipped_with_the_reason(tmp_path, synthetic):
    videos = tmp_path / "videos"
    shutil.copytree(synthetic.video_dir, videos)
    rows = read_jsonl(synthetic.annotations)[:2]
    huge_id = "hugeFrames1"
    write_header_only_video(videos / f"{huge_id}.mp4", 12000, 12000)
    rows.append({**rows[0], "YoutubeID": huge_id})
    numbered = [(i, {"text": json.dumps(row)}) for i, row in enumerate(rows)]
    settings = PrepareSettings(video_root=str(videos), num_frames=4, short_side=40)

    record = prepare_shard(0, numbered, settings, tmp_path / "default")
    assert record["rows_written"] == 2
    [skipped] = record["skipped"]
    assert skipped["reason"] == "corrupt_video" and skipped["youtube_id"] == huge_id
    assert f"{huge_id}.mp4': its frames are 12000x12000 pixels, above the budget" in skipped["message"]

    record = prepare_shard(0, numbered, settings, tmp_path / "strict", {"timeout": 1e-4, "max_pixels": None})
    assert record["rows_written"] == 0
    assert all("deadline" in row["message"] for row in record["skipped"][:2])


def test_prepare_takes_decode_timeout_and_max_pixels_with_the_readers_defaults():
    from viclip.processing.video_reading import DEFAULT_DECODE_TIMEOUT, DEFAULT_MAX_PIXELS

    assert (DECODE_TIMEOUT, MAX_PIXELS) == (DEFAULT_DECODE_TIMEOUT, DEFAULT_MAX_PIXELS)
    base = ["prepare", "--annotations", "a.jsonl", "--video-root", "v", "--output-dir", "o"]
    args = build_parser().parse_args(base)
    assert (args.decode_timeout, args.max_pixels) == (120.0, 8192 * 8192)
    args = build_parser().parse_args([*base, "--decode-timeout", "5", "--max-pixels", "3840x2160"])
    assert (args.decode_timeout, args.max_pixels) == (5.0, 3840 * 2160)


def test_a_hostile_video_root_skips_each_bad_file_with_its_reason_and_never_blocks(tmp_path, synthetic):
    videos = tmp_path / "videos"
    shutil.copytree(synthetic.video_dir, videos)
    os.mkfifo(videos / "fifoVideo01.mp4")  # opening it would block until a writer comes
    (videos / "loopVideo01.mp4").symlink_to("loopVideo01.mp4")
    (videos / "zeroBytes01.mp4").write_bytes(b"")
    (videos / "notAVideo01.mp4").write_text("hello")
    good = read_jsonl(synthetic.annotations)[:2]
    bad = ["fifoVideo01", "loopVideo01", "zeroBytes01", "notAVideo01"]
    rows = [*good, *({**good[0], "YoutubeID": youtube_id} for youtube_id in bad)]
    numbered = [(i, {"text": json.dumps(row)}) for i, row in enumerate(rows)]
    settings = PrepareSettings(video_root=str(videos), num_frames=4, short_side=40)

    start = time.monotonic()
    record = prepare_shard(0, numbered, settings, tmp_path / "out")
    assert time.monotonic() - start < 60  # neither the FIFO nor the loop is waited on
    assert record["rows_written"] == 2
    skipped = {row["youtube_id"]: (row["reason"], row["message"]) for row in record["skipped"]}
    assert list(skipped) == bad
    for youtube_id in ("fifoVideo01", "loopVideo01"):  # not regular files: never opened, not videos
        assert skipped[youtube_id] == ("missing_video", f"no video for {youtube_id} under {videos}")
    assert skipped["zeroBytes01"] == (
        "corrupt_video",
        f"cannot read video '{videos}/zeroBytes01.mp4': file is empty",
    )
    reason, message = skipped["notAVideo01"]
    assert reason == "corrupt_video" and message.startswith(
        f"cannot read video '{videos}/notAVideo01.mp4': not a readable media file"
    )
