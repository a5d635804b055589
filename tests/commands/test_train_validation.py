"""`viclip train` checks the whole run before it generates, builds or writes anything (exit 2, nothing written),
and never starts a second run over a first one: it points to --resume latest, and a run still going holds the
folder (a second start is refused at once, naming it)."""

from __future__ import annotations

import json
import platform

import pytest

import warm_python
from viclip_cli import main

# A run that would train for real if it got past the checks: the checks must stop it first.
SYNTHETIC = ["train", "--config", "synthetic_cpu", "--report_to", "none", "--progress", "false"]


def run(capsys, argv) -> tuple[int, str]:
    code = main([str(arg) for arg in argv])
    return code, capsys.readouterr().err


def test_augment_false_with_shards_is_refused_before_any_synthetic_video_is_made(tmp_path, capsys):
    (tmp_path / "prepared").mkdir()
    out = tmp_path / "run"
    code, err = run(capsys, [*SYNTHETIC, "--output_dir", out, "--train_shards", tmp_path / "prepared"])
    assert code == 2
    assert err.strip() == (
        "viclip train: error: augment=false is not available with train_shards (prepared clips are read augmented)"
    )
    assert not out.exists()  # the 112 synthetic videos were not generated


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([*SYNTHETIC, "--model_size", "huge"], "model_size / model_config: unknown model size 'huge'; choose one"),
        (["train", "--init_from", "{tmp}/no-model", "--synthetic", '{"num_videos": 2}'], "init_from {tmp}/no-model does not exist"),
        ([*SYNTHETIC, "--eval_annotations", "{tmp}/none.jsonl"], "eval_annotations {tmp}/none.jsonl is not a file"),
        ([*SYNTHETIC, "--video_root", "{tmp}/none"], "video_root {tmp}/none is not a folder"),
        ([*SYNTHETIC, "--resume", "{tmp}/step-9"], "resume_from {tmp}/step-9: no such checkpoint folder"),
    ],
)  # fmt: skip
def test_a_bad_setting_is_one_line_exit_2_and_nothing_written(tmp_path, capsys, argv, message):
    out = tmp_path / "run"
    code, err = run(
        capsys, [*(str(arg).replace("{tmp}", str(tmp_path)) for arg in argv), "--output_dir", out]
    )
    assert code == 2
    assert err.startswith(f"viclip train: error: {message.format(tmp=tmp_path)}") and err.count("\n") == 1, (
        err
    )
    assert not out.exists()


def test_no_training_data_is_refused(tmp_path, capsys):
    code, err = run(capsys, ["train", "--output_dir", tmp_path / "run", "--report_to", "none"])
    assert (
        code == 2
        and "no training data: set train_clips, or train_shards, or train_annotations and video_root" in err
    )


def test_a_second_run_into_the_same_output_dir_is_refused_and_pointed_to_resume(tmp_path, capsys):
    out = tmp_path / "run2"
    out.mkdir()
    (out / "metrics.jsonl").write_text(json.dumps({"step": 1, "loss": 2.0}) + "\n")
    (out / "final").mkdir()
    (out / "synthetic-data").mkdir()
    code, err = run(capsys, [*SYNTHETIC, "--output_dir", out])
    assert code == 2
    assert err.strip() == (
        f"viclip train: error: output_dir {out} already holds a run (metrics.jsonl, final); continue it with "
        "--resume latest, or give another --output_dir (a second run there would append to its metrics.jsonl "
        "and replace its final/)"
    )
    assert (out / "metrics.jsonl").read_text().count("\n") == 1
    assert sorted(p.name for p in out.iterdir()) == ["final", "metrics.jsonl", "synthetic-data"]


def test_resume_latest_without_a_checkpoint_is_a_usage_error(tmp_path, capsys):
    code, err = run(capsys, [*SYNTHETIC, "--output_dir", tmp_path, "--resume", "latest"])
    assert code == 2 and f"--resume latest: no checkpoint in {tmp_path / 'checkpoints'}" in err


def test_an_output_dir_that_cannot_be_made_is_named(tmp_path, capsys):
    (tmp_path / "a-file").write_text("x")
    code, err = run(capsys, [*SYNTHETIC, "--output_dir", tmp_path / "a-file" / "run"])
    assert code == 2
    assert err.strip() == (
        f"viclip train: error: --output_dir {str(tmp_path / 'a-file' / 'run')!r}: {str(tmp_path / 'a-file')!r} "
        "is a file, not a folder"
    )


def test_only_synthetic_data_left_by_a_failed_start_is_reused(tmp_path):
    from viclip.training.validation import existing_run_files

    (tmp_path / "synthetic-data").mkdir()
    assert existing_run_files(tmp_path) == []


HOLDER = """
import sys, time
from pathlib import Path
from viclip.data.run_lock import run_lock
with run_lock(sys.argv[1]):
    Path(sys.argv[2]).touch()  # held
    while not Path(sys.argv[3]).exists():  # until the test releases it
        time.sleep(0.02)
"""


def test_a_run_started_while_another_is_running_there_is_refused_at_once_naming_it(tmp_path, capsys):
    from viclip.data.run_lock import RUN_LOCK_FILE

    out = tmp_path / "run"
    held, release = tmp_path / "held", tmp_path / "release"
    holder = warm_python.WarmProcess(["-c", HOLDER, str(out), str(held), str(release)])
    try:
        holder.wait_for_file(held)  # the first run is going: it holds out/ and wrote nothing yet
        code, err = run(capsys, [*SYNTHETIC, "--output_dir", out])
        assert code == 1
        assert err.count("\n") == 1 and err.startswith(f"viclip train: error: {out} is in use by another run")
        assert f"pid {holder.pid} on host {platform.node()}" in err
        assert [p.name for p in out.iterdir()] == [RUN_LOCK_FILE]  # no synthetic data, model or metrics
    finally:
        release.touch()
        holder.wait(timeout=60)
    assert holder.returncode == 0, holder.stderr
    assert not out.exists()  # the holder left: its lock and the folder it made are gone
