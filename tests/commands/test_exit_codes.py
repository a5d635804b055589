"""One exit-code rule for every command (viclip_cli.base.exit_status): 2 when what was given is wrong (a flag, a
setting, an input file, an output in the way), 1 when a run on valid inputs fails while working."""

from __future__ import annotations

import errno
import json

import pytest

from viclip_cli import main
from viclip_cli.base import CommandError, UsageError, exit_status
from viclip_testing import TINY_CHECKPOINT


def _library_errors() -> list[tuple[BaseException, int]]:
    from viclip.data.annotations import AnnotationError
    from viclip.data.disk_full import DiskFullError
    from viclip.data.run_lock import FolderInUseError
    from viclip.inference.store import EmbeddingMismatchError
    from viclip.modeling.original_state_dict import StateDictMismatchError
    from viclip.processing.video_reading import VideoDecodeError
    from viclip.training.checkpointing import CheckpointError
    from viclip.training.config import ConfigError

    return [
        (UsageError("x"), 2),
        (ConfigError("augment=false is not available with train_shards"), 2),
        (EmbeddingMismatchError("other settings (window_sec)"), 2),
        (AnnotationError("bad_timestamp", "bad row"), 2),
        (StateDictMismatchError("missing keys"), 2),
        (ValueError("list.csv: no column(s) ['label']"), 2),
        (FileNotFoundError("no video files found in 'videos'"), 2),
        (CommandError("no video could be embedded"), 1),
        (VideoDecodeError("clip.mp4", "avcodec_send_packet()"), 1),
        (FolderInUseError("out is in use by pid 12"), 1),
        (DiskFullError("no space left"), 1),
        (CheckpointError("incomplete checkpoint"), 1),
        (OSError(errno.ENOSPC, "No space left on device"), 1),
        (RuntimeError("CUDA out of memory"), 1),
        (KeyError("a bug"), 1),
    ]


def test_the_rule_maps_every_kind_of_error():
    for error, code in _library_errors():
        assert exit_status(error) == code, repr(error)


@pytest.fixture
def wrong(tmp_path, tiny_model_dir, video_dir):
    """Command lines that are each wrong in one of the ways the rule names, with their message."""
    from viclip.data.prepared_format import CONFIG_FILE

    folder = tmp_path / "existing"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (tmp_path / "prepared").mkdir()
    (tmp_path / "prepared" / CONFIG_FILE).write_text(json.dumps({"settings": {"short_side": 256}}))
    embeddings = tmp_path / "emb"
    embeddings.mkdir()
    (embeddings / "embedding_info.json").write_text(
        json.dumps({"format": "viclip-embeddings/1", "window_sec": 4.0})
    )
    (tmp_path / "k.csv").write_text("label,youtube_id,start\nyoga,x,1\n")
    (tmp_path / "m.csv").write_text("video_id,caption\nvideo7,a cat\n")
    (tmp_path / "rows.jsonl").write_text(json.dumps({"YoutubeID": "abcdefghijk"}) + "\n")
    (tmp_path / "shards").mkdir()
    model = str(tiny_model_dir)
    return {
        "existing output folder (convert)": (
            ["convert", "--checkpoint", str(TINY_CHECKPOINT), "--output-dir", str(folder)],
            "already exists and is not empty; pass --force",
        ),
        "existing output folder (index)": (
            ["index", "--embeddings", str(tmp_path), "--output-dir", str(folder)],
            "is not a vector index",
        ),
        "changed --short-side (prepare)": (
            ["prepare", "--annotations", str(tmp_path / "rows.jsonl"), "--video-root", str(video_dir),
             "--output-dir", str(tmp_path / "prepared"), "--quiet"],
            "was prepared with other settings",
        ),
        "changed --window (embed)": (
            ["embed", "--inputs", str(video_dir), "--model", model, "--output-dir", str(embeddings), "--window",
             "2", "--engine", "local", "--quiet"],
            "holds embeddings made with other settings",
        ),
        "missing CSV columns (evaluate kinetics)": (
            ["evaluate", "kinetics", "--annotations", str(tmp_path / "k.csv"), "--video-root", str(video_dir),
             "--model", model],
            "no column(s) ['time_start', 'time_end']",
        ),
        "missing CSV columns (evaluate msrvtt)": (
            ["evaluate", "msrvtt", "--csv", str(tmp_path / "m.csv"), "--video-root", str(video_dir), "--model", model],
            "no column(s)",
        ),
        "augment conflict (train)": (
            ["train", "--config", "synthetic_cpu", "--train_shards", str(tmp_path / "shards"), "--output_dir",
             str(tmp_path / "run")],
            "augment=false is not available with train_shards",
        ),
        "a bad setting (synthetic)": (
            ["synthetic", "--output-dir", str(tmp_path / "syn"), "--size", "33", "--quiet"],
            "size must be even",
        ),
    }  # fmt: skip


CASES = [
    "existing output folder (convert)",
    "existing output folder (index)",
    "changed --short-side (prepare)",
    "changed --window (embed)",
    "missing CSV columns (evaluate kinetics)",
    "missing CSV columns (evaluate msrvtt)",
    "augment conflict (train)",
    "a bad setting (synthetic)",
]


@pytest.mark.parametrize("case", CASES)
def test_a_wrong_setting_or_input_file_exits_2_in_every_command(case, wrong, capsys):
    argv, message = wrong[case]
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in err, err


def test_a_run_that_fails_while_working_exits_1(broken_video, tiny_model_dir, capsys):
    code = main(["classify", str(broken_video), "--model", str(tiny_model_dir), "--labels", "a,b", "--quiet"])
    err = capsys.readouterr().err
    assert code == 1 and "no video could be classified" in err


def test_a_failed_verification_exits_1(tmp_path, tiny_config_json, capsys, monkeypatch):
    import viclip.conversion.converter as converter
    from viclip.conversion import VerificationError

    def fail(*args, **kwargs):
        raise VerificationError("verification failed (AutoModel with viclip): logits_per_video differs by 1")

    monkeypatch.setattr(converter, "verify_folder", fail)
    argv = ["convert", "--checkpoint", str(TINY_CHECKPOINT), "--output-dir", str(tmp_path / "out"), "--config",
            str(tiny_config_json), "--allow-vocab-mismatch", "--verify", "--quiet"]  # fmt: skip
    assert main(argv) == 1
    assert "verification failed" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
