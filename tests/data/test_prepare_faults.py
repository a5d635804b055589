"""viclip prepare under faults: a full disk stops it in one line with nothing partial left, a Ray worker killed
mid-shard is retried and every clip arrives once, a shard whose worker always dies is left pending and named.

Each case runs the job in a subprocess whose Ray workers get the fault from a ``worker_process_setup_hook`` (this
Ray has no dashboard, so its state API cannot list worker pids; a worker that kills itself is the same SIGKILL).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

import warm_python
from viclip.data import AnnotationFilter, prepare_internvid

from .test_prepare import _folder_bytes

pytestmark = pytest.mark.slow

# The job in a subprocess: `python -c JOB FAULT_KIND MARKERS ARGV...`; FAULTS[kind] is run in every Ray worker.
JOB = """
import sys
kind, markers, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
FILE_LIMIT = 8 * 1024


def limit_file_size():
    import resource, signal
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit raises EFBIG instead of killing
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_LIMIT, FILE_LIMIT))


def kill_workers():
    # Patched when a task first imports the job's module: the workers Ray starts for itself import no viclip.
    import importlib.machinery, sys

    class PatchOnImport:
        def find_spec(self, name, path, target=None):
            if name != "viclip.data.prepare":
                return None
            sys.meta_path.remove(self)
            spec = importlib.machinery.PathFinder.find_spec(name, path)
            load = spec.loader.exec_module
            spec.loader.exec_module = lambda module: (load(module), break_shard_records(module))
            return spec

    sys.meta_path.insert(0, PatchOnImport())


def break_shard_records(prepare):
    import os, signal
    import viclip.data.prepare_shard as prepare_shard

    prepare.SHARD_TASK_ATTEMPTS = 2  # give up sooner: each start is a new worker
    write_json_atomic = prepare_shard.write_json_atomic

    def write_record(path, data):
        shard = data.get("shard") if isinstance(data, dict) else None
        first = os.path.join(markers, f"killed-{shard}")
        if shard == 1 and not os.path.exists(first):  # once, after its Parquet file and before its record
            open(first, "w").close()
            os.kill(os.getpid(), signal.SIGKILL)
        if shard == 3:  # every time
            os.kill(os.getpid(), signal.SIGKILL)
        write_json_atomic(path, data)

    prepare_shard.write_json_atomic = write_record


import ray
hook = {"full_disk": limit_file_size, "kill_workers": kill_workers}[kind]
ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR",
         runtime_env={"worker_process_setup_hook": hook})
from viclip_cli import main
sys.exit(main(argv))
"""


def _argv(prepared, out: Path) -> list[str]:
    return ["prepare", "--annotations", str(prepared.annotations), "--video-root", str(prepared.source.video_root),
            "--output-dir", str(out), "--min-umt-score", "0.1", "--model", prepared.options["processor"],
            "--short-side", "48", "--rows-per-shard", "2", "--quiet"]  # fmt: skip


def _run_job(kind: str, prepared, out: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    return warm_python.run(["-c", JOB, kind, str(tmp_path), *_argv(prepared, out)], timeout=300)


def _rerun(prepared, out: Path):
    return prepare_internvid(
        out,
        video_root=prepared.source.video_root,
        data_files=prepared.annotations,
        filters=AnnotationFilter(min_umt_score=0.1),
        **prepared.options,
    )


def test_full_disk_stops_prepare_in_one_line_leaving_no_partial_shard_and_a_rerun_completes(
    tmp_path, prepared, ray_local
):
    sizes = [p.stat().st_size for p in (prepared.folder / "shards").glob("*.parquet")]
    assert min(sizes) > 8 * 1024  # the limit of JOB stops every shard, not the small files
    out = tmp_path / "out"
    job = _run_job("full_disk", prepared, out, tmp_path)
    assert job.returncode == 1, job.stderr
    errors = [
        line for line in job.stderr.splitlines() if "error" in line.lower()
    ]  # Ray logs notes of its own
    assert len(errors) == 1 and "Traceback" not in job.stderr
    prefix = f"viclip prepare: error: {out}: cannot write (File too large writing shards/"
    assert errors[0].startswith(prefix)
    shard, rest = errors[0].removeprefix(prefix).split("); the file needs about ")
    needed, rest = rest.split(" ", 1)
    assert int(needed) == (prepared.folder / "shards" / shard).stat().st_size  # exactly the whole shard
    assert rest == "bytes; free space and rerun the same command: finished work is kept"
    assert not list((out / "shards").glob("*")) and not list(
        (out / "records").glob("*.json")
    )  # nothing partial

    report = _rerun(prepared, out)  # space freed
    assert report.complete
    assert _folder_bytes(out) == _folder_bytes(prepared.folder)


def test_killed_workers_are_retried_once_and_a_shard_whose_worker_always_dies_is_named(
    tmp_path, prepared, ray_local
):
    out = tmp_path / "out"
    job = _run_job("kill_workers", prepared, out, tmp_path)
    assert (tmp_path / "killed-1").exists(), "the first attempt of shard 1 must have been killed"
    assert job.returncode == 1, job.stderr
    assert job.stderr.strip().splitlines()[-1] == (
        f"viclip prepare: error: {out}: shards [3] failed; rerun the command to finish"
    )
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["shards_pending"] == [3] and not manifest["complete"]
    expected = json.loads((prepared.folder / "manifest.json").read_text())
    assert [s for s in expected["shards"] if s["shard"] != 3] == manifest["shards"]  # shard 1 once, as ever
    for name in ("shard-000001.parquet",):
        assert (out / "shards" / name).read_bytes() == (prepared.folder / "shards" / name).read_bytes()

    report = _rerun(prepared, out)
    assert report.complete and report.shards_this_run == 1
    assert _folder_bytes(out) == _folder_bytes(prepared.folder)
