"""One run per output folder: a second run is refused at once naming the first; a dead run's lock is taken over."""

from __future__ import annotations

import os
import platform
import signal
import stat
import sys
import time
from pathlib import Path

import pytest

import warm_python
from viclip.data import FolderInUseError, download_internvid
from viclip.data.run_lock import RUN_LOCK_FILE, run_lock
from viclip_cli import main

from .conftest import read_jsonl, write_jsonl

# A yt-dlp that blocks until the test creates the file `release` next to it, then copies a real video.
BLOCKING_YT_DLP = """#!{python}
import os, shutil, sys, time
args = sys.argv[1:]
open({started!r}, "a").close()
while not os.path.exists({release!r}):
    time.sleep(0.02)
shutil.copy({source!r}, args[args.index("-o") + 1].replace("%(ext)s", "mp4"))
"""

FIRST_RUN = """
import sys
from viclip.data import download_internvid
report = download_internvid([sys.argv[1]], sys.argv[2], yt_dlp=sys.argv[3], workers=1, progress=False)
print(report.summary())
"""


@pytest.fixture
def rows(tmp_path, synthetic) -> Path:
    return write_jsonl(tmp_path / "rows.jsonl", read_jsonl(synthetic.annotations)[:1])


@pytest.fixture
def blocking_yt_dlp(tmp_path, synthetic) -> Path:
    path = tmp_path / "bin" / "yt-dlp"
    path.parent.mkdir()
    path.write_text(
        BLOCKING_YT_DLP.format(
            python=sys.executable,
            started=str(tmp_path / "started"),
            release=str(tmp_path / "release"),
            source=str(synthetic.video_paths[0]),
        )
    )
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_second_run_into_a_folder_in_use_is_refused_at_once_naming_the_first(
    tmp_path, rows, blocking_yt_dlp, synthetic, tiny_model_dir, capsys
):
    out = tmp_path / "videos"
    first = warm_python.WarmProcess(["-c", FIRST_RUN, str(rows), str(out), str(blocking_yt_dlp)])
    try:
        first.wait_for_file(tmp_path / "started")  # the first run is downloading, holding the folder
        holder = f"pid {first.pid} on host {platform.node()}"
        start = time.monotonic()
        with pytest.raises(FolderInUseError, match=f"{out} is in use by another run \\({holder}, since "):
            download_internvid([rows], out, yt_dlp=str(blocking_yt_dlp), progress=False)
        assert time.monotonic() - start < 1.0  # at once, not after a wait

        # every job writing a folder refuses the same way: one line, exit status 1
        annotations, videos = str(rows), str(synthetic.video_dir)
        commands = {
            "download": ["download", annotations, "--output-dir", str(out), "--yt-dlp", str(blocking_yt_dlp)],
            "prepare": ["prepare", "--annotations", annotations, "--video-root", videos, "--output-dir", str(out)],
            "embed": ["embed", "--inputs", videos, "--model", str(tiny_model_dir), "--output-dir", str(out),
                      "--engine", "local"],
        }  # fmt: skip
        for name, argv in commands.items():
            capsys.readouterr()
            assert main([*argv, "--quiet"]) == 1, name
            err = capsys.readouterr().err
            assert err.count("\n") == 1 and holder in err and f"viclip {name}: error: {out} is in use" in err
        assert sorted(p.name for p in out.iterdir()) == [".incomplete", RUN_LOCK_FILE]  # nothing written
    finally:
        (tmp_path / "release").touch()
        stdout, stderr = first.communicate(timeout=60)
    assert first.returncode == 0, stderr
    assert "1 downloaded" in stdout
    assert not (out / RUN_LOCK_FILE).exists()  # released at the end
    again = download_internvid([rows], out, yt_dlp=str(blocking_yt_dlp), progress=False)
    assert len(again.existing) == 1 and not again.downloaded


KILLED_HOLDER = """
import os, signal, sys
from viclip.data.run_lock import run_lock
with run_lock(sys.argv[1]):
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_lock_of_a_killed_run_on_this_host_is_taken_over(tmp_path):
    folder = tmp_path / "out"
    killed = warm_python.WarmProcess(["-c", KILLED_HOLDER, str(folder)])
    assert killed.wait() == -signal.SIGKILL
    assert (folder / RUN_LOCK_FILE).read_text().splitlines()[:2] == [str(killed.pid), platform.node()]

    with run_lock(folder) as lock_path:
        assert lock_path.read_text().splitlines()[:2] == [str(os.getpid()), platform.node()]
    assert not lock_path.exists()


def test_lock_of_a_run_on_another_host_is_refused_with_the_file_to_delete(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / RUN_LOCK_FILE).write_text("4242\nnode-7\n")
    with pytest.raises(FolderInUseError) as caught, run_lock(folder):
        pass
    message = str(caught.value)
    assert "pid 4242 on host node-7" in message and f"delete {folder / RUN_LOCK_FILE}" in message
    assert "\n" not in message


def test_lock_is_released_and_a_folder_it_created_is_removed_when_left_empty(tmp_path):
    with run_lock(tmp_path / "unused"):
        assert (tmp_path / "unused" / RUN_LOCK_FILE).is_file()
    assert not (tmp_path / "unused").exists()
    with run_lock(tmp_path / "used"):
        (tmp_path / "used" / "result.txt").write_text("done")
    assert [p.name for p in (tmp_path / "used").iterdir()] == ["result.txt"]
    with pytest.raises(ValueError, match="boom"), run_lock(tmp_path / "used"):
        raise ValueError("boom")
    with run_lock(tmp_path / "used"):  # released after an error too
        pass
