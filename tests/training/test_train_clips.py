"""`viclip train` on a caption list (``--train-clips``): from scratch, from a saved folder with held-out retrieval
on ``--eval-clips``, resumed, and from shards `viclip prepare --clips` made; ``--key null``; bad lists refused in
one line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from accelerate.state import AcceleratorState
from tiny_data import tiny_model
from transformers import AutoProcessor

from viclip_cli import main

CAPTIONS = [
    "a red square moves right",
    "a white square crosses a red background",
    "a green square",
    "a blue square",
]
RUN = ["--max-steps", "2", "--per-device-batch-size", "2", "--report-to", "none", "--progress", "false",
       "--attn-implementation", "eager", "--gradient-checkpointing", "false", "--num-workers", "0",
       "--shuffle-buffer", "0", "--save-steps", "0", "--logging-steps", "1"]  # fmt: skip


@pytest.fixture(autouse=True)
def reset_accelerate():
    yield
    AcceleratorState._reset_state(reset_partial_state=True)


@pytest.fixture(scope="module")
def clips(tmp_path_factory, video_dir, broken_video) -> Path:
    """Relative and absolute paths, two captions for one clip, a whole video, a missing and a corrupt file."""
    folder = tmp_path_factory.mktemp("clips")
    videos = folder / "videos"
    videos.mkdir()
    for name in ("red", "green", "blue"):
        (videos / f"{name}.mp4").write_bytes((video_dir / f"{name}.mp4").read_bytes())
    (videos / "broken.mp4").write_bytes(broken_video.read_bytes())
    rows = ["path,start_sec,end_sec,caption", f"videos/red.mp4,0,2,{CAPTIONS[0]}", f"videos/red.mp4,0,2,{CAPTIONS[1]}",
            f"{videos / 'green.mp4'},0,1.5,{CAPTIONS[2]}", f"videos/blue.mp4,,,{CAPTIONS[3]}",
            "videos/missing.mp4,0,1,not there", "videos/broken.mp4,0,1,broken"]  # fmt: skip
    (folder / "clips.csv").write_text("\n".join(rows) + "\n")
    return folder / "clips.csv"


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """A saved tiny ViCLIP taking 4 frames of 32x32."""
    from viclip.hub import save_hub_folder
    from viclip.processing import ViCLIPProcessor

    path = tmp_path_factory.mktemp("model") / "tiny"
    save_hub_folder(tiny_model(), ViCLIPProcessor.for_model(image_size=32, num_frames=4), path)
    return path


def _metrics(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def _losses(run: Path) -> list[int]:
    return [row["step"] for row in _metrics(run) if "loss" in row]


def test_training_from_scratch_on_a_caption_list(tmp_path, clips):
    argv = ["train", "--model-size", "tiny", "--model-config", '{"vision_config": {"num_frames": 4}}',
            "--train-clips", str(clips), "--output-dir", str(tmp_path / "run"), *RUN]  # fmt: skip
    assert main(argv) == 0
    assert _losses(tmp_path / "run") == [1, 2]
    assert (tmp_path / "run" / "final" / "model.safetensors").is_file()


def test_finetune_clips_from_a_folder_evaluates_on_eval_clips_and_resumes(
    tmp_path, clips, folder, monkeypatch
):
    from viclip.training import loop

    seen = []
    evaluate = loop.TrainingRun.evaluate
    monkeypatch.setattr(
        loop.TrainingRun, "evaluate", lambda run: seen.append(len(run.eval_examples)) or evaluate(run)
    )
    run = tmp_path / "run"
    argv = ["train", "--config", "finetune_clips", "--init-from", str(folder), "--train-clips", str(clips),
            "--eval-clips", str(clips), "--output-dir", str(run), *RUN, "--save-steps", "1"]  # fmt: skip
    assert main(argv) == 0
    assert _losses(run) == [1, 2] and seen == [4]  # the 4 captions of the 3 clips that decode
    assert AutoProcessor.from_pretrained(run / "final").video_processor.num_frames == 4  # the folder's frames
    [evaluation] = [row for row in _metrics(run) if "eval/t2v_R@1" in row]
    # 4 captions against 3 videos (the two red captions share one): v2t R@1 is a multiple of 1/3
    assert round(evaluation["eval/v2t_R@1"] * 3 / 100, 6) in (0, 1, 2, 3)
    AcceleratorState._reset_state(reset_partial_state=True)

    assert main([*argv, "--max-steps", "3", "--resume", "latest"]) == 0
    assert _losses(run) == [1, 2, 3]
    assert sorted(p.name for p in (run / "checkpoints").iterdir())[-1] == "step-00000003"


def test_prepared_shards_of_a_caption_list_train(tmp_path, clips, folder, ray_local):
    shards = tmp_path / "prepared"
    argv = ["prepare", "--clips", str(clips), "--output-dir", str(shards), "--model", str(folder),
            "--short-side", "32", "--rows-per-shard", "3", "--quiet"]  # fmt: skip
    assert main(argv) == 0
    manifest = json.loads((shards / "manifest.json").read_text())
    assert (manifest["rows_read"], manifest["rows_written"]) == (6, 4)
    assert manifest["rows_skipped"] == {"missing_video": 1, "corrupt_video": 1}
    assert main(argv) == 0  # a rerun resumes: every shard is done
    run = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "--init-from",
                str(folder),
                "--train-shards",
                str(shards),
                "--output-dir",
                str(run),
                *RUN,
            ]
        )
        == 0
    )
    assert _losses(run) == [1, 2]


def test_key_null_clears_a_field_the_config_set(capsys, folder):
    argv = ["train", "--config", "finetune_small", "--train-annotations", "null", "--train-clips", "c.csv",
            "--eval-annotations", "None", "--print-config"]  # fmt: skip
    assert main(argv) == 0
    printed = json.loads(capsys.readouterr().out)
    assert (printed["train_annotations"], printed["eval_annotations"], printed["train_clips"]) == (
        None,
        None,
        "c.csv",
    )
    argv = ["train", "--config", "synthetic_cpu", "--init-from", str(folder), "--model-size=null",
            "--model-config", "null", "--print-config"]  # fmt: skip
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)["model_size"] is None


def test_two_training_sources_are_refused_saying_how_to_clear_one(capsys):
    assert main(["train", "--config", "finetune_small", "--train-clips", "c.csv", "--print-config"]) == 2
    err = capsys.readouterr().err.strip()
    assert "set at most one of train_shards, train_annotations, train_clips" in err
    assert "--train-annotations null" in err and len(err.splitlines()) == 1
    assert main(["train", "--config", "synthetic_cpu", "--train-clips", "c.csv", "--print-config"]) == 2
    assert "--synthetic null" in capsys.readouterr().err


BAD_LISTS = {
    "no-caption-column": (b"path,start_sec,end_sec\nvideos/red.mp4,0,1\n", r":2: missing the 'caption' column"),
    "not-utf8": (b"path,caption\nvideos/red.mp4,caf\xe9\n", r":2: not UTF-8 text"),
    "negative-duration": (b"path,start_sec,end_sec,caption\nvideos/red.mp4,2,1,x\n", r":2: .*end_sec 1 is not after start_sec 2"),
    "empty": (b"path,start_sec,end_sec,caption\n", r"has no rows"),
}  # fmt: skip


@pytest.mark.parametrize("case", BAD_LISTS)
def test_a_bad_caption_list_is_refused_in_one_line_before_anything_is_written(tmp_path, capsys, case):
    content, message = BAD_LISTS[case]
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    argv = [
        "train",
        "--model-size",
        "tiny",
        "--train-clips",
        str(path),
        "--output-dir",
        str(tmp_path / "run"),
        *RUN,
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(path) in err and re.search(message, err), err
    assert not (tmp_path / "run").exists()


def test_trainer_example_fine_tunes_on_a_caption_list_and_scores_retrieval(tmp_path, clips, folder):
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "examples" / "finetune_on_caption_list.py"
    spec = importlib.util.spec_from_file_location("finetune_on_caption_list", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    held_out = clips.parent / "val.csv"  # the clips that exist, as `viclip evaluate retrieval` wants them
    held_out.write_text("\n".join(clips.read_text().splitlines()[:5]) + "\n")
    argv = ["--model", str(folder), "--train-clips", str(clips), "--eval-clips", str(held_out), "--max-steps", "2",
            "--batch-size", "2", "--output-dir", str(tmp_path / "run")]  # fmt: skip
    metrics = example.main(argv)
    assert metrics["skipped"] == {"missing_video": 1, "corrupt_video": 1}
    assert (metrics["num_captions"], metrics["num_videos"]) == (4, 3)
    assert (tmp_path / "run" / "final" / "model.safetensors").is_file()
