"""The yt-dlp downloader, against a fake yt-dlp executable (no network)."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import pytest

from viclip.data import SkipStats, download_internvid, load_internvid
from viclip.data.download import FAILURES_FILE

from .conftest import read_jsonl, write_jsonl

FAKE_YT_DLP = """#!{python}
# Fake yt-dlp: logs its arguments, fails for ids starting with "dead", else copies a real video.
# (Paths written into the script, not the environment: Ray workers do not see the test's environment.)
import json, os, shutil, sys
args = sys.argv[1:]
with open({log!r}, "a") as log:
    log.write(json.dumps(args) + "\\n")
url = args[-1]
if url.split("v=")[-1].startswith("dead"):
    print("ERROR: [youtube] " + url + ": Video unavailable", file=sys.stderr)
    sys.exit(1)
out = args[args.index("-o") + 1].replace("%(ext)s", "mp4")
shutil.copy({source!r}, out)
"""


@pytest.fixture
def fake_yt_dlp(tmp_path, synthetic) -> Path:
    path = tmp_path / "bin" / "yt-dlp"
    path.parent.mkdir()
    script = FAKE_YT_DLP.format(
        python=sys.executable, log=str(tmp_path / "calls.jsonl"), source=str(synthetic.video_paths[0])
    )
    path.write_text(script)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


@pytest.fixture
def annotations(tmp_path, synthetic) -> Path:
    rows = read_jsonl(synthetic.annotations)[:4]  # two videos, two clips each
    dead = {**rows[0], "YoutubeID": "deadVideo01"}
    broken = {**rows[0], "Start_timestamp": "soon"}
    return write_jsonl(tmp_path / "rows.jsonl", [*rows, dead, broken])


def _calls(tmp_path) -> list[list[str]]:
    return [json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines()]


def test_sections_are_downloaded_named_for_the_video_locator_and_failures_listed(
    tmp_path, fake_yt_dlp, annotations
):
    out = tmp_path / "videos"
    report = download_internvid([annotations], out, yt_dlp=str(fake_yt_dlp), workers=3, progress=False)
    rows = read_jsonl(annotations)
    assert len(report.downloaded) == 4 and report.bad_rows == 1
    assert list(report.failed) == ["deadVideo01_0.050_0.950"]
    assert "Video unavailable" in report.failed["deadVideo01_0.050_0.950"]
    first = rows[0]
    assert (out / f"{first['YoutubeID']}_0.050_0.950.mp4").is_file()
    call = next(
        c
        for c in _calls(tmp_path)
        if c[-1].endswith(first["YoutubeID"]) and "*00:00:00.050-00:00:00.950" in c
    )
    assert call[call.index("--download-sections") + 1] == "*00:00:00.050-00:00:00.950"
    failures = read_jsonl(out / FAILURES_FILE)
    assert [f["youtube_id"] for f in failures] == ["deadVideo01"]
    assert not list((out / ".incomplete").iterdir())

    # the downloaded clips are what load_internvid reads
    stats = SkipStats()
    examples = list(load_internvid(data_files=annotations, video_root=out, transform=lambda r: {
        "pixel_values_videos": r["video_path"], "input_ids": 0, "attention_mask": 0}, stats=stats))  # fmt: skip
    assert len(examples) == 4
    assert stats.skipped() == {"missing_video": 1, "bad_timestamp": 1}


def test_rerun_skips_present_files_and_optionally_known_failures(tmp_path, fake_yt_dlp, annotations):
    out = tmp_path / "videos"
    download_internvid([annotations], out, yt_dlp=str(fake_yt_dlp), progress=False)
    calls = len(_calls(tmp_path))
    again = download_internvid([annotations], out, yt_dlp=str(fake_yt_dlp), progress=False)
    assert len(again.existing) == 4 and list(again.failed) == ["deadVideo01_0.050_0.950"]
    assert len(_calls(tmp_path)) == calls + 1  # only the failure was retried
    skipped = download_internvid(
        [annotations], out, yt_dlp=str(fake_yt_dlp), skip_failed=True, progress=False
    )
    assert skipped.skipped_known_failures == ["deadVideo01_0.050_0.950"] and not skipped.failed
    assert len(_calls(tmp_path)) == calls + 1
    assert [f["key"] for f in read_jsonl(out / FAILURES_FILE)] == ["deadVideo01_0.050_0.950"]


def test_whole_videos_mode_downloads_each_video_once(tmp_path, fake_yt_dlp, annotations):
    out = tmp_path / "whole"
    report = download_internvid([annotations], out, sections=False, yt_dlp=str(fake_yt_dlp), progress=False)
    ids = sorted({r["YoutubeID"] for r in read_jsonl(annotations)[:4]})
    assert sorted(report.downloaded) == ids
    assert all("--download-sections" not in c for c in _calls(tmp_path))
    assert sorted(p.name for p in out.glob("*.mp4")) == [f"{i}.mp4" for i in ids]


def test_limit_caps_the_number_of_downloads(tmp_path, fake_yt_dlp, annotations):
    report = download_internvid(
        [annotations], tmp_path / "v", yt_dlp=str(fake_yt_dlp), limit=2, progress=False
    )
    assert len(report.downloaded) + len(report.failed) == 2


def test_ray_engine_downloads_resumes_and_lists_failures_like_threads(
    tmp_path, fake_yt_dlp, annotations, ray_local
):
    out = tmp_path / "videos"
    report = download_internvid([annotations], out, yt_dlp=str(fake_yt_dlp), engine="ray", progress=False)
    assert len(report.downloaded) == 4 and report.bad_rows == 1
    assert list(report.failed) == ["deadVideo01_0.050_0.950"]
    assert [f["youtube_id"] for f in read_jsonl(out / FAILURES_FILE)] == ["deadVideo01"]
    threads = download_internvid([annotations], tmp_path / "t", yt_dlp=str(fake_yt_dlp), progress=False)
    assert sorted(p.name for p in out.glob("*.mp4")) == sorted(p.name for p in (tmp_path / "t").glob("*.mp4"))

    calls = len(_calls(tmp_path))
    again = download_internvid(
        [annotations], out, yt_dlp=str(fake_yt_dlp), engine="ray", skip_failed=True, progress=False
    )
    assert len(again.existing) == 4 and again.skipped_known_failures == ["deadVideo01_0.050_0.950"]
    assert len(_calls(tmp_path)) == calls and sorted(threads.downloaded) == sorted(report.downloaded)


def test_ray_address_needs_the_ray_engine(tmp_path, fake_yt_dlp, annotations):
    with pytest.raises(ValueError, match="needs engine='ray'"):
        download_internvid(
            [annotations], tmp_path, yt_dlp=str(fake_yt_dlp), engine="threads", ray_address="auto"
        )
