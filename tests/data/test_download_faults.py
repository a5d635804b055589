"""viclip download under faults: a full disk stops it in one line with nothing partial left and the rerun completes;
a Ray worker SIGKILLed mid-download is retried and the clip arrives once; one that always dies is listed as failed."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import pytest

import warm_python
from viclip.data import download
from viclip.data.download import FAILURES_FILE, download_internvid

from .conftest import read_jsonl, write_jsonl
from .test_download import _calls, annotations, fake_yt_dlp  # noqa: F401  (fixtures)

FULL_DISK_JOB = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit raises EFBIG instead of killing
resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))  # smaller than a video, larger than failures.jsonl
from viclip_cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_full_disk_stops_the_download_in_one_line_leaving_nothing_partial_and_a_rerun_completes(
    tmp_path,
    fake_yt_dlp,  # noqa: F811  (the fixture imported above)
    annotations,  # noqa: F811
    synthetic,
):
    assert synthetic.video_paths[0].stat().st_size > 2048
    out = tmp_path / "videos"
    argv = [
        "download",
        str(annotations),
        "--output-dir",
        str(out),
        "--yt-dlp",
        str(fake_yt_dlp),
        "--workers",
        "1",
    ]
    job = warm_python.run(["-c", FULL_DISK_JOB, *argv, "--quiet"], timeout=300)
    assert job.returncode == 1, job.stderr
    [error] = job.stderr.splitlines()
    assert error.startswith(
        f"viclip download: error: {out}: cannot write (yt-dlp: OSError: [Errno 27] File too large"
    )
    assert error.endswith("); free space and rerun the same command: finished work is kept")
    # stopped at the first full write (and the one download its worker had started), not after every job failed
    assert len(_calls(tmp_path)) <= 2
    assert not list((out / ".incomplete").iterdir()) and not list(out.glob("*.mp4"))
    assert not (out / FAILURES_FILE).exists() or not read_jsonl(out / FAILURES_FILE)  # not the videos' fault

    report = download_internvid([annotations], out, yt_dlp=str(fake_yt_dlp), progress=False)  # space freed
    assert len(report.downloaded) == 4 and list(report.failed) == ["deadVideo01_0.050_0.950"]
    assert len(list(out.glob("*.mp4"))) == 4 and not list((out / ".incomplete").iterdir())


# A yt-dlp that SIGKILLs its parent (the Ray worker running the download): once for killOnce*, always for
# killAlways*; it logs the parent's process title, to show it was a Ray worker.
KILLING_YT_DLP = """#!{python}
import json, os, shutil, signal, sys
args = sys.argv[1:]
video = args[-1].split("v=")[-1]
with open("/proc/%d/cmdline" % os.getppid(), "rb") as f:
    parent = f.read().split(b"\\0")[0].decode()
with open({log!r}, "a") as log:
    log.write(json.dumps({{"video": video, "parent": parent}}) + "\\n")
marker = os.path.join({markers!r}, video)
if video.startswith("killAlways") or (video.startswith("killOnce") and not os.path.exists(marker)):
    open(marker, "w").close()
    os.kill(os.getppid(), signal.SIGKILL)
    sys.exit(1)
shutil.copy({source!r}, args[args.index("-o") + 1].replace("%(ext)s", "mp4"))
"""


@pytest.fixture
def killing_yt_dlp(tmp_path, synthetic) -> Path:
    path = tmp_path / "bin" / "yt-dlp"
    path.parent.mkdir()
    (tmp_path / "markers").mkdir()
    path.write_text(
        KILLING_YT_DLP.format(
            python=sys.executable,
            log=str(tmp_path / "killing.jsonl"),
            markers=str(tmp_path / "markers"),
            source=str(synthetic.video_paths[0]),
        )
    )
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_ray_worker_killed_mid_download_is_retried_and_one_that_always_dies_is_listed(
    tmp_path, killing_yt_dlp, synthetic, ray_local, monkeypatch
):
    monkeypatch.setattr(download, "RAY_TASK_RETRIES", 1)  # the always-dying download: 2 worker deaths, not 4
    first = read_jsonl(synthetic.annotations)[0]
    rows = [first, {**first, "YoutubeID": "killOnce001"}, {**first, "YoutubeID": "killAlways1"}]
    out = tmp_path / "videos"
    report = download_internvid(
        [write_jsonl(tmp_path / "rows.jsonl", rows)], out, yt_dlp=str(killing_yt_dlp), engine="ray", workers=3,
        progress=False,
    )  # fmt: skip

    calls = [json.loads(line) for line in (tmp_path / "killing.jsonl").read_text().splitlines()]
    assert all(call["parent"].startswith("ray::") for call in calls)  # yt-dlp's parent was a Ray worker
    assert sorted(call["video"] for call in calls) == sorted(
        [first["YoutubeID"], "killOnce001", "killOnce001", "killAlways1", "killAlways1"]
    )
    assert sorted(report.downloaded) == sorted(
        f"{v}_0.050_0.950" for v in (first["YoutubeID"], "killOnce001")
    )
    assert list(report.failed) == ["killAlways1_0.050_0.950"]
    assert report.failed["killAlways1_0.050_0.950"].startswith("Ray task failed: ")
    assert [f["youtube_id"] for f in read_jsonl(out / FAILURES_FILE)] == ["killAlways1"]
    assert sorted(p.name for p in out.glob("*.mp4")) == sorted(f"{k}.mp4" for k in report.downloaded)
    assert not list((out / ".incomplete").iterdir())
