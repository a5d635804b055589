"""Every command with an output checks it before the work starts: an output under a file, or in a folder that
cannot be made, is one line naming it with exit 2 (was: the work ran, then a raw [Errno 2] / [Errno 20])."""

from __future__ import annotations

import argparse
import sys

import pytest

from viclip_cli import COMMANDS, main
from viclip_cli.base import build_parser
from viclip_testing import TINY_CHECKPOINT

# A command line of each command with an output; {out} is the output path, {tmp} a scratch folder holding the
# inputs below (rows.jsonl, list.csv, captions.csv, kinetics.csv, msrvtt.csv).
WITH_OUTPUT: dict[tuple[str, ...], list[str]] = {
    ("convert",): ["--checkpoint", str(TINY_CHECKPOINT), "--output-dir", "{out}"],
    ("synthetic",): ["--output-dir", "{out}"],
    ("download",): ["{tmp}/rows.jsonl", "--output-dir", "{out}"],
    ("prepare",): ["--annotations", "{tmp}/rows.jsonl", "--video-root", "{tmp}", "--output-dir", "{out}"],
    ("train",): ["--config", "synthetic_cpu", "--output_dir", "{out}"],
    ("finetune-classifier",): ["--train", "{tmp}/list.csv", "--output-dir", "{out}"],
    ("embed",): ["--inputs", "{tmp}", "--model", "me/model", "--output-dir", "{out}", "--engine", "local"],
    ("index",): ["--embeddings", "{tmp}", "--output-dir", "{out}"],
    ("evaluate", "classification"): ["{tmp}/list.csv", "--model", "me/model", "--output", "{out}"],
    ("evaluate", "retrieval"): ["{tmp}/captions.csv", "--model", "me/model", "--output", "{out}"],
    ("evaluate", "kinetics"): ["--annotations", "{tmp}/kinetics.csv", "--video-root", "{tmp}", "--model", "me/model",
                               "--output", "{out}"],
    ("evaluate", "msrvtt"): ["--csv", "{tmp}/msrvtt.csv", "--video-root", "{tmp}", "--model", "me/model",
                             "--output", "{out}"],
    ("demo",): ["--output-dir", "{out}"],
    ("search",): ["{tmp}", "--model", "me/model", "--text", "a cat", "--cache", "{out}"],
    ("serve",): ["{tmp}", "--model", "me/model", "--cache", "{out}"],
    ("score",): ["--inputs", "{tmp}/list.csv", "--model", "me/model", "--output-dir", "{out}"],
}  # fmt: skip
OUTPUT_FLAGS = {"--output", "--output-dir", "--output_dir", "--output-path", "--plot", "--cache"}


@pytest.fixture
def inputs(tmp_path):
    (tmp_path / "rows.jsonl").write_text('{"YoutubeID": "x", "Start_timestamp": "00:00:01.000"}\n')
    (tmp_path / "list.csv").write_text("path,label\na.mp4,a\n")
    (tmp_path / "captions.csv").write_text("path,caption\na.mp4,a cat\n")
    (tmp_path / "kinetics.csv").write_text("label,youtube_id,time_start,time_end,split\nyoga,x,1,3,val\n")
    (tmp_path / "msrvtt.csv").write_text("key,vid_key,video_id,sentence\nret0,msr7,video7,a cat\n")
    (tmp_path / "a-file").write_text("not a folder")
    return tmp_path


def _argv(path: tuple[str, ...], tmp, out) -> list[str]:
    return [*path, *(arg.replace("{tmp}", str(tmp)).replace("{out}", str(out)) for arg in WITH_OUTPUT[path])]


def test_every_command_with_an_output_flag_is_checked_here():
    parser = build_parser()
    subparsers = {}

    def walk(p, prefix):
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, (*prefix, name))
        subparsers[prefix] = p

    walk(parser, ())
    with_output = {
        path
        for path in COMMANDS
        if OUTPUT_FLAGS & {flag for action in subparsers[path]._actions for flag in action.option_strings}
    }
    assert with_output | {("train",)} == set(WITH_OUTPUT)


@pytest.mark.parametrize("path", sorted(WITH_OUTPUT), ids=" ".join)
def test_an_output_under_a_file_is_one_line_exit_2(path, inputs, capsys):
    out = inputs / "a-file" / "out"
    code = main(_argv(path, inputs, out))
    err = capsys.readouterr().err
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err and "Errno" not in err, err
    assert f"{str(inputs / 'a-file')!r} is a file, not a folder" in lines[0], lines[0]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc is Linux's")
@pytest.mark.parametrize("path", sorted(WITH_OUTPUT), ids=" ".join)
def test_an_output_in_a_folder_that_cannot_be_made_is_one_line_exit_2(path, inputs, capsys):
    out = "/proc/nope/out.json" if path[0] == "evaluate" else "/proc/nope/out"
    code = main(_argv(path, inputs, out))
    err = capsys.readouterr().err
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Errno" not in err, err
    assert f"{out!r} cannot be created: '/proc' is not writable" in lines[0], lines[0]


@pytest.mark.parametrize("flag", ["--plot", "--cache"])
def test_every_output_of_an_evaluation_is_checked(flag, inputs, capsys):
    argv = [
        *_argv(("evaluate", "classification"), inputs, inputs / "r.json"),
        flag,
        str(inputs / "a-file" / "x"),
    ]
    assert main(argv) == 2
    assert f"{flag} {str(inputs / 'a-file' / 'x')!r}" in capsys.readouterr().err
