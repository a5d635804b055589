"""`viclip score` from the command line: VBench's results file, curation, and one clear line for each bad input."""

from __future__ import annotations

import json
import shutil

import pytest

from viclip.data.run_lock import run_lock
from viclip_cli import main


@pytest.fixture
def vbench_argv(vbench_model_dir):
    base = ["score", "--protocol", "vbench", "--model", str(vbench_model_dir), "--engine", "local", "--quiet"]
    return lambda *extra: [*base, *extra]


def _one_error_line(capsys) -> str:
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    return lines[0]


def test_vbench_custom_input_writes_vbenchs_results_file(vbench_argv, prompt_videos, tmp_path):
    out = tmp_path / "results"
    assert (
        main(vbench_argv("--videos-path", str(prompt_videos), "--output-path", str(out), "--name", "run1"))
        == 0
    )
    results = json.loads((out / "run1_eval_results.json").read_text())
    mean, videos = results["overall_consistency"]
    assert [v["video_path"].rsplit("/", 1)[-1] for v in videos] == [
        "a cat runs-0.mp4",
        "a cat runs-1.mp4",
        "a red car-0.mp4",
    ]
    scores = [v["video_results"] for v in videos]
    assert all(-1.0 <= s <= 1.0 for s in scores)
    assert mean == pytest.approx(sum(scores) / 3, abs=1e-9)


def test_a_prompt_file_naming_a_missing_video_exits_2_naming_it_and_writes_nothing(
    vbench_argv, prompt_videos, tmp_path, capsys
):
    prompts = tmp_path / "prompts.json"
    prompts.write_text(json.dumps({"a cat runs-0.mp4": "a cat", "gone.mp4": "a dog"}))
    out = tmp_path / "results"
    argv = vbench_argv(
        "--videos-path", str(prompt_videos), "--prompt-file", str(prompts), "--output-path", str(out)
    )
    assert main(argv) == 2
    assert "'gone.mp4'" in _one_error_line(capsys)
    assert not out.exists() or not any(out.iterdir())


def test_a_prompt_file_that_is_not_utf8_exits_2_naming_the_file(vbench_argv, prompt_videos, tmp_path, capsys):
    prompts = tmp_path / "prompts.json"
    prompts.write_bytes(b'{"a cat runs-0.mp4": "caf\xe9"}')
    assert main(vbench_argv("--videos-path", str(prompt_videos), "--prompt-file", str(prompts))) == 2
    line = _one_error_line(capsys)
    assert "prompts.json" in line and "UTF-8" in line


def test_an_empty_prompt_exits_2(vbench_argv, prompt_videos, capsys):
    video = prompt_videos / "a red car-0.mp4"
    assert main(vbench_argv("--videos-path", str(video), "--prompt", "  ")) == 2
    assert "empty prompt" in _one_error_line(capsys)


def test_a_dimension_vbench_does_not_compute_with_viclip_exits_2(vbench_argv, prompt_videos, capsys):
    assert main(vbench_argv("--videos-path", str(prompt_videos), "--dimension", "subject_consistency")) == 2
    assert "subject_consistency" in _one_error_line(capsys)


def test_an_unknown_device_exits_2(vbench_argv, prompt_videos, capsys):
    assert main(vbench_argv("--videos-path", str(prompt_videos), "--device", "bogus")) == 2
    assert "--device 'bogus'" in _one_error_line(capsys)


def test_a_full_info_file_that_is_not_a_prompt_list_exits_2(vbench_argv, prompt_videos, tmp_path, capsys):
    full_info = tmp_path / "full_info.json"
    full_info.write_text(json.dumps({"prompt_en": "a cat"}))
    assert main(vbench_argv("--videos-path", str(prompt_videos), "--full-info", str(full_info))) == 2
    assert "full_info.json" in _one_error_line(capsys)


def test_a_bad_video_among_good_ones_is_listed_and_only_unreadable_ones_fail_the_run(
    vbench_argv, prompt_videos, tmp_path, capsys
):
    folder = tmp_path / "videos"
    shutil.copytree(prompt_videos, folder)
    (folder / "a broken one-0.mp4").write_bytes(b"\x00" * 100)
    out = tmp_path / "results"
    assert main(vbench_argv("--videos-path", str(folder), "--output-path", str(out), "--name", "r")) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "skipped" in line]
    assert len(warnings) == 1 and "a broken one-0.mp4" in warnings[0]
    videos = json.loads((out / "r_eval_results.json").read_text())["overall_consistency"][1]
    assert len(videos) == 3

    only_bad = tmp_path / "bad"
    only_bad.mkdir()
    (only_bad / "a broken one-0.mp4").write_bytes(b"\x00" * 100)
    assert main(vbench_argv("--videos-path", str(only_bad), "--output-path", str(tmp_path / "none"))) == 1
    assert not (tmp_path / "none").exists() or not any((tmp_path / "none").iterdir())


def test_curation_writes_the_kept_rows_and_a_histogram(vbench_model_dir, codec_videos, tmp_path, capsys):
    clips = tmp_path / "clips.csv"
    clips.write_text(
        "path,caption\n" + "".join(f"{codec_videos[name]},a clip {name}\n" for name in ("short", "bframes"))
    )
    out, plot = tmp_path / "scored", tmp_path / "scores.png"
    argv = ["score", "--inputs", str(clips), "--model", str(vbench_model_dir), "--output-dir", str(out)]
    assert main([*argv, "--min-score", "-1", "--plot", str(plot), "--engine", "local", "--quiet"]) == 0
    assert "2 pairs: 2 scored (2 kept)" in capsys.readouterr().out
    assert plot.stat().st_size > 0 and len(list((out / "data").glob("part-*.parquet"))) == 1


def test_a_second_scoring_run_into_a_folder_in_use_is_refused_at_once(
    vbench_model_dir, codec_videos, tmp_path, capsys
):
    clips = tmp_path / "clips.csv"
    clips.write_text(f"path,caption\n{codec_videos['short']},a clip\n")
    out = tmp_path / "scored"
    with run_lock(out):
        argv = ["score", "--inputs", str(clips), "--model", str(vbench_model_dir), "--output-dir", str(out)]
        assert main([*argv, "--engine", "local", "--quiet"]) == 1
        assert "in use by another run" in _one_error_line(capsys)
        assert not (out / "data").exists()


def test_the_summary_says_which_engine_ran_and_why(vbench_argv, prompt_videos, capsys):
    assert main(vbench_argv("--videos-path", str(prompt_videos), "--engine", "auto")) == 0
    assert "engine: in this process" in capsys.readouterr().out


@pytest.mark.parametrize("protocol", ["vbench", "viclip"])
def test_frames_above_max_pixels_are_refused_from_the_header_for_both_protocols(
    protocol, vbench_model_dir, prompt_videos, tmp_path, capsys
):
    video = prompt_videos / "a red car-0.mp4"
    if protocol == "vbench":
        inputs = ["--videos-path", str(video), "--prompt", "a red car"]
    else:
        clips = tmp_path / "clips.csv"
        clips.write_text(f"path,caption\n{video},a red car\n")
        inputs = ["--inputs", str(clips)]
    argv = ["score", "--protocol", protocol, *inputs, "--model", str(vbench_model_dir), "--engine", "local"]
    assert main([*argv, "--max-pixels", "16x16", "--quiet"]) == 1
    assert "above the budget of 256 pixels" in capsys.readouterr().err
