"""viclip embed under faults: a folder of hostile files, a full disk, a Ray worker killed mid-job."""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
import warnings
from pathlib import Path

import pytest

import warm_python
from viclip.embedding import embed_videos, load_embeddings
from viclip_testing import write_header_only_video


@pytest.fixture
def hostile_dir(tmp_path, video_dir) -> Path:
    """red.mp4 and blue.mp4, and a FIFO named .mp4, a symlink loop, a zero-byte, a truncated and a 12k x 12k file."""
    folder = tmp_path / "hostile"
    folder.mkdir()
    for name in ("red.mp4", "blue.mp4"):
        shutil.copy(video_dir / name, folder / name)
    os.mkfifo(folder / "stream.mp4")  # opening it would block until a writer comes
    (folder / "loop_a.mp4").symlink_to(folder / "loop_b.mp4")
    (folder / "loop_b.mp4").symlink_to(folder / "loop_a.mp4")
    (folder / "empty.mp4").write_bytes(b"")
    whole = (video_dir / "long.mp4").read_bytes()
    (folder / "truncated.mp4").write_bytes(whole[: len(whole) // 2])
    write_header_only_video(folder / "huge.mkv", 12000, 12000)
    return folder


EXPECTED_FAILURES = {
    "empty.mp4": "file is empty",
    "huge.mkv": "its frames are 12000x12000 pixels, above the budget of 67108864 pixels",
    "truncated.mp4": "not a readable media file",
}


@pytest.mark.parametrize("runner", ["local", pytest.param("ray", marks=pytest.mark.slow)])
def test_hostile_folder_embeds_every_good_video_once_and_lists_each_bad_file_with_its_reason(
    runner, request, hostile_dir, tiny_model_dir, tmp_path
):
    if runner == "ray":
        request.getfixturevalue("ray_local")
    with warnings.catch_warnings(record=True) as caught:  # not pytest.warns: it would re-emit Ray's own
        warnings.simplefilter("always", UserWarning)
        result = embed_videos(
            hostile_dir, str(tiny_model_dir), tmp_path / "emb", engine=runner, progress=False
        )
    walk = [str(w.message) for w in caught if "not regular files left out" in str(w.message)]
    assert len(walk) == 1 and walk[0].startswith(f"3 entries of {hostile_dir} that are not regular files")
    table, _ = load_embeddings(tmp_path / "emb")
    assert sorted(os.path.basename(p) for p in table.column("path").to_pylist()) == ["blue.mp4", "red.mp4"]
    assert result.num_embedded == 2
    failures = {os.path.basename(f.path): f.error for f in result.failures}
    assert sorted(failures) == sorted(EXPECTED_FAILURES)
    for name, reason in EXPECTED_FAILURES.items():
        assert reason in failures[name], (name, failures[name])


FULL_DISK_JOB = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit raises EFBIG instead of killing
resource.setrlimit(resource.RLIMIT_FSIZE, (1536, 1536))  # more than the card and the info, less than a part
from viclip_cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_full_disk_fails_embed_in_one_line_leaving_no_partial_part_and_a_rerun_completes(
    video_dir, tiny_model_dir, tmp_path
):
    out = tmp_path / "emb"
    argv = [
        "embed",
        "--inputs",
        str(video_dir),
        "--model",
        str(tiny_model_dir),
        "--output-dir",
        str(out),
        "--engine",
        "local",
        "--dtype",
        "float32",  # the library's default below; --dtype auto would pick bf16 on a CPU with native bf16
    ]
    job = warm_python.run(["-c", FULL_DISK_JOB, *argv, "--quiet"], timeout=300)
    assert job.returncode == 1, job.stderr
    errors = [line for line in job.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and "Traceback" not in job.stderr, job.stderr
    assert errors[0].startswith("viclip embed: error: ") and "File too large" in errors[0]
    assert not list((out / "data").glob("*")), "no part file, whole or partial"

    result = embed_videos(video_dir, str(tiny_model_dir), out, engine="local", progress=False)  # space freed
    assert result.num_reused == 0 and result.num_embedded == 4
    table, _ = load_embeddings(out)
    paths = table.column("path").to_pylist()
    assert len(paths) == len(set(paths)) == 4


def _ray_processes(title_part: str) -> list[int]:
    """Pids of Ray workers whose process title (Ray sets ``ray::<task or actor>``) holds ``title_part``."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            title = (entry / "cmdline").read_bytes().split(b"\0")[0].decode()
        except (OSError, ValueError):
            continue
        if title.startswith("ray::") and title_part in title:
            pids.append(int(entry.name))
    return pids


class _KillOnce(threading.Thread):
    """SIGKILLs the first Ray worker whose title holds ``title_part``, as soon as one is running."""

    def __init__(self, title_part: str) -> None:
        super().__init__(daemon=True)
        self.title_part, self.killed, self.stop = title_part, None, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set() and self.killed is None:
            for pid in _ray_processes(self.title_part):
                os.kill(pid, signal.SIGKILL)
                self.killed = pid
                break
            time.sleep(0.02)


@pytest.mark.slow
@pytest.mark.parametrize("target", ["decode_clips", "VideoEmbeddingWorker"])
def test_ray_worker_killed_mid_embed_is_restarted_and_every_clip_arrives_once(
    target, ray_local, video_dir, tiny_model_dir, tmp_path
):
    killer = _KillOnce(target)
    killer.start()
    try:
        result = embed_videos(
            video_dir / "long.mp4", str(tiny_model_dir), tmp_path / "emb", window_sec=0.5, stride_sec=0.25,
            batch_size=1, engine="ray", progress=False,
        )  # fmt: skip
    finally:
        killer.stop.set()
        killer.join()
    assert killer.killed is not None, f"no Ray worker running {target} was seen"
    assert result.num_embedded == 23 and not result.failures
    table, _ = load_embeddings(tmp_path / "emb")
    keys = list(zip(*(table.column(c).to_pylist() for c in ("path", "start_sec", "end_sec"))))
    assert len(keys) == len(set(keys)) == 23
