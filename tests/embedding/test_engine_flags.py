"""viclip embed's --engine (auto by default, with the reason in the summary) and its decode limits (issue 20 #2, #5)."""

from __future__ import annotations

import pytest

from viclip.inference import engine_choice
from viclip_cli.base import build_parser

from .conftest import run_cli as run


@pytest.fixture
def two_cores(monkeypatch):
    monkeypatch.setattr(engine_choice, "machine_cpus", lambda: 2)


def test_embed_defaults_to_the_engine_chosen_here_and_says_why(
    capsys, two_cores, video_dir, tiny_model_dir, tmp_path
):
    base = ["embed", "--model", tiny_model_dir, "--quiet"]
    code, out, err = run(capsys, *base, "--inputs", video_dir / "red.mp4", "--output-dir", tmp_path / "one")
    assert code == 0, err
    assert out.strip().endswith(
        "engine: in this process, the model on 2 core(s) (1 clips: Ray's start-up would be most of the job)"
    )
    clips = tmp_path / "many.csv"
    clips.write_text(
        "path,start_sec,end_sec\n" + "".join(f"long.mp4,{i / 20:g},{i / 20 + 1:g}\n" for i in range(64))
    )
    code, out, err = run(
        capsys, *base, "--inputs", clips, "--video-root", video_dir, "--output-dir", tmp_path / "many"
    )
    assert code == 0, err
    assert "64 clips: 64 embedded" in out
    assert out.strip().endswith(
        "engine: in this process, the model on 2 core(s) (no GPU and 2 core(s): in process the model gets them all "
        "(Ray ran 0.46x on 2))"
    )


def test_engine_flags_are_checked_before_any_work(capsys, video_dir, tiny_model_dir, tmp_path):
    base = ["embed", "--inputs", video_dir, "--model", tiny_model_dir, "--output-dir", tmp_path / "e"]
    code, _, err = run(capsys, *base, "--engine", "local", "--num-gpus", "1")
    assert code == 2 and err.strip() == (
        "viclip embed: error: --engine local runs in this process: drop --ray-address/--num-gpus"
    )
    code, _, err = run(capsys, *base, "--engine", "threads")
    assert code == 2 and "invalid choice: 'threads'" in err
    code, _, err = run(capsys, *base, "--local")  # gone: --engine local
    assert code == 2 and "unrecognized arguments: --local" in err
    assert not (tmp_path / "e").exists()


def test_embed_takes_decode_timeout_and_max_pixels_with_the_readers_defaults():
    base = ["embed", "--inputs", "v", "--model", "m", "--output-dir", "o"]
    args = build_parser().parse_args(base)
    assert (args.engine, args.decode_timeout, args.max_pixels) == ("auto", 120.0, 8192 * 8192)
    args = build_parser().parse_args([*base, "--decode-timeout", "5", "--max-pixels", "3840x2160"])
    assert (args.decode_timeout, args.max_pixels) == (5.0, 3840 * 2160)


def test_decode_limits_reach_the_reader(capsys, video_dir, tiny_model_dir, tmp_path):
    base = [
        "embed",
        "--inputs",
        video_dir / "red.mp4",
        "--model",
        tiny_model_dir,
        "--engine",
        "local",
        "--quiet",
    ]
    code, _, err = run(capsys, *base, "--output-dir", tmp_path / "a", "--max-pixels", "40x40")
    assert code == 1, err
    assert (
        "its frames are 48x40 pixels, above the budget of 1600 pixels (40x40; max_pixels); not decoded" in err
    )
    code, _, err = run(capsys, *base, "--output-dir", tmp_path / "b", "--decode-timeout", "1e-6")
    assert code == 1 and "deadline (decode_timeout); given up" in err


def _engine_help(command: str) -> str:
    parser = build_parser()
    subparser = parser._subparsers._group_actions[0].choices[command]
    (group,) = [g for g in subparser._action_groups if g.title == "engine"]
    formatter = subparser._get_formatter()
    formatter.add_arguments(group._group_actions)
    return formatter.format_help()


def test_embed_and_score_share_one_engine_group_with_optimize():
    assert "--optimize {none,compile,openvino,onnx-int8}" in _engine_help("embed")
    assert _engine_help("embed") == _engine_help("score")
    args = build_parser().parse_args(["score", "--videos-path", "v", "--model", "m", "--optimize", "compile"])
    assert args.optimize == "compile"
