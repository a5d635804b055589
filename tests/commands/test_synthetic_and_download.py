"""`viclip synthetic` and `viclip download`: what they write and print, and their one-line errors."""

from __future__ import annotations

import json
import stat
import sys

from viclip_cli import main

FAKE_YT_DLP = """#!{python}
# Fake yt-dlp: fails for ids starting with "dead", else copies a real video to the -o template.
import os, shutil, sys
args = sys.argv[1:]
if args[-1].split("v=")[-1].startswith("dead"):
    print("ERROR: Video unavailable", file=sys.stderr)
    sys.exit(1)
shutil.copy(os.environ["FAKE_YTDLP_SOURCE"], args[args.index("-o") + 1].replace("%(ext)s", "mp4"))
"""


def _row(youtube_id: str) -> dict:
    return {"YoutubeID": youtube_id, "Start_timestamp": "00:00:00.000", "End_timestamp": "00:00:01.000",
            "Caption": "a red square moves"}  # fmt: skip


def test_synthetic_writes_videos_and_annotations(tmp_path, capsys):
    argv = ["synthetic", "--output-dir", str(tmp_path), "--num-videos", "1", "--clips-per-video", "2"]
    assert main([*argv, "--seconds", "1", "--size", "32x16", "--fps", "4", "--quiet"]) == 0
    assert "wrote 2 annotations" in capsys.readouterr().out
    assert len((tmp_path / "annotations.jsonl").read_text().splitlines()) == 2


def test_synthetic_bad_size_is_one_line(tmp_path, capsys):
    assert main(["synthetic", "--output-dir", str(tmp_path), "--size", "33", "--quiet"]) == 2
    assert (
        capsys.readouterr().err
        == "viclip synthetic: error: size must be even and at least 16 pixels per side (h264 yuv420p), got 33x33\n"
    )


def test_download_reports_downloads_and_failures(tmp_path, capsys, monkeypatch, video_dir):
    fake = tmp_path / "yt-dlp"
    fake.write_text(FAKE_YT_DLP.format(python=sys.executable))
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("FAKE_YTDLP_SOURCE", str(video_dir / "red.mp4"))
    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(json.dumps(_row(i)) + "\n" for i in ["abcdefghijk", "deadVideo01"]))
    argv = ["download", str(rows), "--output-dir", str(tmp_path / "v"), "--yt-dlp", str(fake), "--quiet"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "1 downloaded" in out and "1 failed" in out and "failures.jsonl" in out
    assert (tmp_path / "v" / "abcdefghijk_0.000_1.000.mp4").is_file()


def test_download_without_yt_dlp_is_one_line(tmp_path, capsys):
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps(_row("abcdefghijk")) + "\n")
    argv = ["download", str(rows), "--output-dir", str(tmp_path / "v"), "--yt-dlp", str(tmp_path / "no-such")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "yt-dlp executable" in err


def test_download_ray_address_with_thread_engine_is_a_usage_error(tmp_path, capsys):
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps(_row("abcdefghijk")) + "\n")
    argv = ["download", str(rows), "--output-dir", str(tmp_path / "v"), "--engine", "threads"]
    assert main([*argv, "--ray-address", "auto"]) == 2
    assert "--ray-address needs --engine ray" in capsys.readouterr().err
