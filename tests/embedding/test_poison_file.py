"""A crash inside the decoder (native code: no Python exception, the process dies) never blocks a rerun: the
in-process engine names the clip it decodes in the output folder first, and the rerun lists that clip as failed
instead of decoding it again (issue 34)."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess

import pytest

import warm_python
from viclip.inference.store import CRASHED_FILE, CRASHED_REASON, DECODING_NOTE_FILE

# `viclip embed` in a new process whose PyAV aborts the process (SIGABRT, as a segfault in FFmpeg would end
# it) when it opens the file named in argv[1].
ABORTING_EMBED = """
import os, sys
import av
poison, real_open = sys.argv[1], av.open
av.open = lambda file, *a, **k: os.abort() if str(file).endswith(poison) else real_open(file, *a, **k)
from viclip_cli import main
sys.exit(main(sys.argv[2:]))
"""


def _embed(poison: str, folder, out, model) -> subprocess.CompletedProcess:
    argv = ["embed", "--inputs", str(folder), "--output-dir", str(out), "--model", str(model), "--engine", "local",
            "--batch-size", "2", "--quiet"]  # fmt: skip
    return warm_python.run(["-c", ABORTING_EMBED, poison, *argv], timeout=300)


@pytest.fixture
def folder_with_poison(tmp_path, video_dir):
    folder = tmp_path / "videos"
    folder.mkdir()
    for name, source in (("a_red", "red"), ("c_green", "sub/green"), ("d_blue", "blue")):
        shutil.copy(video_dir / f"{source}.mp4", folder / f"{name}.mp4")
    shutil.copy(video_dir / "red.mp4", folder / "b_poison.mp4")  # sorts second: in the middle of a batch
    return folder


def test_a_rerun_lists_the_clip_whose_decoding_killed_the_run_and_embeds_the_rest(
    folder_with_poison, tmp_path, tiny_model_dir
):
    out = tmp_path / "emb"
    first = _embed("b_poison.mp4", folder_with_poison, out, tiny_model_dir)
    assert first.returncode == -signal.SIGABRT, first.stderr
    assert json.loads((out / DECODING_NOTE_FILE).read_text())["path"].endswith("b_poison.mp4")

    rerun = _embed("b_poison.mp4", folder_with_poison, out, tiny_model_dir)
    assert rerun.returncode == 0, rerun.stderr
    assert "4 clips: 3 embedded, 0 already done, 1 failed" in rerun.stdout + rerun.stderr
    failures = [json.loads(line) for line in (out / "failures.jsonl").read_text().splitlines()]
    assert [(f["path"].rsplit("/", 1)[-1], f["error"]) for f in failures] == [
        ("b_poison.mp4", CRASHED_REASON)
    ]
    assert not (out / DECODING_NOTE_FILE).exists()

    # Remembered: a third run does not decode it either, and reuses the rest.
    third = _embed("b_poison.mp4", folder_with_poison, out, tiny_model_dir)
    assert third.returncode == 0, third.stderr
    assert "4 clips: 0 embedded, 3 already done, 1 failed" in third.stdout + third.stderr
    assert len((out / CRASHED_FILE).read_text().splitlines()) == 1


def test_a_crashed_clip_is_decoded_again_once_its_file_changed(folder_with_poison, tmp_path, tiny_model_dir):
    out = tmp_path / "emb"
    assert _embed("b_poison.mp4", folder_with_poison, out, tiny_model_dir).returncode == -signal.SIGABRT
    shutil.copy(folder_with_poison / "c_green.mp4", folder_with_poison / "b_poison.mp4")  # replaced
    rerun = _embed("no-poison-now.mp4", folder_with_poison, out, tiny_model_dir)
    assert rerun.returncode == 0, rerun.stderr
    assert "4 clips: 4 embedded, 0 already done, 0 failed" in rerun.stdout + rerun.stderr
