"""prepare_internvid on local Ray (2 CPUs): manifest counts, atomic output, resume after kill -9."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import warm_python
from viclip.data import AnnotationFilter, prepare_internvid
from viclip.data.prepared_format import decode_jpeg_frame, encode_jpeg_frame, frame_layout, stored_frames
from viclip.processing import ViCLIPProcessor, sample_frame_indices


def _folder_bytes(folder: Path) -> dict[str, bytes]:
    """Every output file but the config (which records no run-specific state either, but is written first)."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "prepare_config.json"
    }


def test_manifest_counts_rows_written_and_skipped_by_reason(prepared):
    manifest = json.loads((prepared.folder / "manifest.json").read_text())
    good = len(prepared.source.good_rows)
    assert manifest["rows_written"] == good
    assert manifest["rows_skipped"] == prepared.reasons
    assert manifest["rows_read"] == good + sum(prepared.reasons.values())
    assert manifest["complete"] is True
    skipped = [json.loads(line) for line in (prepared.folder / "skipped.jsonl").read_text().splitlines()]
    assert {r["row_index"]: r["reason"] for r in skipped if r["row_index"] in prepared.source.bad_rows} == (
        prepared.source.bad_rows
    )
    assert all(r["message"] for r in skipped)


def test_shards_hold_every_good_row_once_with_its_frames(prepared):
    rows = []
    for path in sorted((prepared.folder / "shards").glob("*.parquet")):
        rows += pq.read_table(path).to_pylist()
    assert sorted(r["row_index"] for r in rows) == prepared.source.good_rows
    for r in rows:
        assert min(r["width"], r["height"]) == prepared.options["short_side"]
        assert len(r["frame_order"]) == len(frame_layout(r["num_source_frames"], 4, 3))
        assert len(r["frames"]) == len(stored_frames(r["num_source_frames"], 4, 3))
        assert all(f[:2] == b"\xff\xd8" for f in r["frames"])  # JPEG
    assert not list(prepared.folder.rglob("*.tmp"))


def test_stored_frames_decode_to_rgb_channels_first_and_a_truncated_frame_raises():
    import numpy as np

    gradient = np.linspace(0, 255, 40 * 56, dtype=np.float32).reshape(40, 56, 1) * [1.0, 0.5, 0.2]
    frame = gradient.astype(np.uint8)
    data = encode_jpeg_frame(frame, quality=95)
    decoded = decode_jpeg_frame(data)
    assert decoded.shape == (3, 40, 56) and str(decoded.dtype) == "torch.uint8"
    assert decoded.permute(1, 2, 0).is_contiguous()  # a channels-last view of the decoded image
    assert np.abs(decoded.permute(1, 2, 0).numpy().astype(int) - frame).mean() < 2  # JPEG at quality 95
    gray = decode_jpeg_frame(encode_jpeg_frame(np.repeat(frame[..., :1], 3, axis=2)[..., 0], quality=95))
    assert gray.shape == (3, 40, 56) and bool((gray[0] == gray[1]).all())
    with pytest.raises(OSError):
        decode_jpeg_frame(data[: len(data) // 2])


@pytest.mark.parametrize("num_range_frames", [1, 3, 4, 7, 25, 90, 301])
def test_frame_layout_gives_the_source_middle_frames_and_random_frames_inside_their_segment(num_range_frames):
    layout = frame_layout(num_range_frames, 8, 3)
    middle = [layout[i] for i in sample_frame_indices(len(layout), 8, "middle")]
    assert middle == sample_frame_indices(num_range_frames, 8, "middle")
    for seed in range(5):
        drawn = [layout[i] for i in sample_frame_indices(len(layout), 8, "random", seed)]
        if num_range_frames >= 8:
            segments = [int(i * num_range_frames / 8) for i in range(9)]
            assert all(
                segments[j] <= f < max(segments[j] + 1, segments[j + 1] - 1) for j, f in enumerate(drawn)
            )
        else:
            assert drawn == sample_frame_indices(num_range_frames, 8, "random", seed)


def test_rerun_of_a_complete_folder_does_no_work(prepared, ray_local):
    before = _folder_bytes(prepared.folder)
    report = prepare_internvid(
        prepared.folder,
        video_root=prepared.source.video_root,
        data_files=prepared.annotations,
        filters=AnnotationFilter(min_umt_score=0.1),
        **prepared.options,
    )
    assert report.shards_this_run == 0 and report.complete
    assert _folder_bytes(prepared.folder) == before


def test_rerun_with_other_settings_is_refused(prepared, ray_local):
    with pytest.raises(ValueError, match=r"other settings.*num_frames"):
        prepare_internvid(
            prepared.folder,
            video_root=prepared.source.video_root,
            data_files=prepared.annotations,
            filters=AnnotationFilter(min_umt_score=0.1),
            **{**prepared.options, "processor": ViCLIPProcessor()},  # 8 frames, the folder has 4
        )


_CHILD = """
import sys
from viclip.data import AnnotationFilter, prepare_internvid
prepare_internvid(sys.argv[1], video_root=sys.argv[2], data_files=sys.argv[3],
                  filters=AnnotationFilter(min_umt_score=0.1), num_cpus=1, **{options})
"""


def _running_in_session(session: int) -> list[int]:
    """The processes of ``session`` that have not ended (a killed process is a zombie until reaped)."""
    running = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and os.getsid(int(entry.name)) == session:
                state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
                if state not in "ZX":
                    running.append(int(entry.name))
        except OSError:  # ended meanwhile
            continue
    return running


def _kill_session(child: warm_python.WarmProcess) -> None:
    """SIGKILL the job started with ``start_new_session``: its process group (the driver, Ray's GCS and raylet),
    then every other process of its session, and return once none runs. Ray puts each worker in a process group of
    its own, so a group kill alone leaves a worker running its shard: it finished after the kill was counted."""
    os.killpg(child.pid, signal.SIGKILL)  # first the raylet: no new worker starts after this
    child.wait()
    deadline = time.monotonic() + 30
    while running := _running_in_session(child.pid):
        assert time.monotonic() < deadline, f"processes {running} of the killed job still run"
        for pid in running:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.01)


@pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="finds the job's Ray workers in /proc (Linux)"
)
def test_job_killed_midway_then_rerun_gives_the_same_shards(tmp_path, prepared, ray_local):
    out = tmp_path / "out"
    child = warm_python.WarmProcess(
        ["-c", _CHILD.format(options=prepared.options), str(out), str(prepared.source.video_root),
         str(prepared.annotations)],
        start_new_session=True,  # the job and its Ray workers share this session, killed together
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while not list((out / "records").glob("*.json")) and time.monotonic() < deadline:
            assert child.poll() is None, "the job ended before it could be killed"
            time.sleep(0.05)
    finally:
        _kill_session(child)
    done_before = len(list((out / "records").glob("*.json")))
    assert 0 < done_before < len(list((prepared.folder / "records").glob("*.json")))
    assert not (out / "manifest.json").exists()
    (out / "shards" / ".shard-000099.parquet.stale.tmp").write_bytes(b"half a shard")

    report = prepare_internvid(
        out,
        video_root=prepared.source.video_root,
        data_files=prepared.annotations,
        filters=AnnotationFilter(min_umt_score=0.1),
        **prepared.options,
    )
    assert report.complete and report.shards_this_run == report.shards_done - done_before
    assert _folder_bytes(out) == _folder_bytes(prepared.folder)


def test_prepare_command_writes_the_same_shards_as_the_function(
    tmp_path, prepared, ray_local, four_frame_model_dir, capsys
):
    from viclip_cli import main

    out = tmp_path / "cmd"
    argv = ["prepare", "--annotations", str(prepared.annotations), "--video-root", str(prepared.source.video_root),
            "--output-dir", str(out), "--min-umt-score", "0.1", "--model", str(four_frame_model_dir), "--short-side", "48",
            "--rows-per-shard", "2", "--max-rows", "6", "--quiet"]  # fmt: skip
    assert main(argv) == 0
    assert "clips written from 6 rows" in capsys.readouterr().out
    shards = sorted(p.relative_to(out).as_posix() for p in (out / "shards").glob("*.parquet"))
    assert shards and all((out / f).read_bytes() == (prepared.folder / f).read_bytes() for f in shards)
