"""One error policy for every registered command: a usage error is one line with exit 2, a missing input is one
line naming the path (exit 2 or 1), never a traceback without --debug."""

from __future__ import annotations

import warnings

import pytest

from viclip_cli import COMMANDS, main

# A command line of each command whose input path ({missing}) does not exist. {tmp} is a scratch folder.
MISSING_INPUT: dict[tuple[str, ...], list[str]] = {
    ("convert",): ["--checkpoint", "{missing}", "--output-dir", "{tmp}/out"],
    ("push",): ["{missing}", "--repo-id", "me/viclip"],
    ("synthetic",): ["--output-dir", "{missing_parent}/data"],
    ("download",): ["{missing}", "--output-dir", "{tmp}/videos"],
    ("prepare",): ["--annotations", "{missing}", "--video-root", "{tmp}", "--output-dir", "{tmp}/prepared"],
    ("train",): ["--config", "{missing}"],
    ("finetune-classifier",): ["--train", "{missing}", "--output-dir", "{tmp}/out"],
    ("classify",): ["{missing}", "--model", "{tmp}/model", "--labels", "a,b"],
    ("embed",): ["--inputs", "{missing}", "--model", "{tmp}/model", "--output-dir", "{tmp}/out"],
    ("score",): ["--inputs", "{missing}", "--model", "{tmp}/model"],
    ("index",): ["--embeddings", "{missing}", "--output-dir", "{tmp}/out"],
    ("search",): ["{missing}", "--model", "{tmp}/model", "--text", "a dog"],
    ("serve",): ["--index", "{missing}"],
    ("evaluate", "classification"): ["{missing}", "--model", "{tmp}/model"],
    ("evaluate", "retrieval"): ["{missing}", "--model", "{tmp}/model"],
    ("evaluate", "kinetics"): [
        "--annotations",
        "{missing}",
        "--video-root",
        "{tmp}",
        "--model",
        "{tmp}/model",
    ],
    ("evaluate", "msrvtt"): ["--csv", "{missing}", "--video-root", "{tmp}", "--model", "{tmp}/model"],
    ("demo",): ["--checkpoint", "{missing}", "--output-dir", "{tmp}/out"],
}


def run(capsys, argv: list[str]) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exit_info:
        code = exit_info.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=" ".join)
def test_an_unknown_flag_is_one_line_and_exit_2(path, capsys):
    code, _, err = run(capsys, [*path, "--no-such-flag"])
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("viclip") and "error:" in err and "Traceback" not in err


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=" ".join)
def test_a_missing_input_is_one_line_naming_it(path, capsys, tmp_path):
    if path not in MISSING_INPUT:
        pytest.fail(f"add `viclip {' '.join(path)}` to MISSING_INPUT: a command line whose input is missing")
    missing = tmp_path / "no-such-input.mp4"
    fields = {"missing": missing, "missing_parent": tmp_path / "no-such-file.txt", "tmp": tmp_path}
    (tmp_path / "no-such-file.txt").write_text("a file, not a folder")
    argv = [arg.format(**fields) for arg in MISSING_INPUT[path]]
    code, _, err = run(capsys, [*path, *argv])
    assert code in (1, 2), err
    lines = [line for line in err.strip().splitlines() if "error:" in line]
    assert len(lines) == 1 and "Traceback" not in err, err
    named = str(missing) if "{missing}" in MISSING_INPUT[path] else str(tmp_path / "no-such-file.txt")
    assert named in lines[0] or missing.name in lines[0], lines[0]


def test_debug_shows_the_traceback(tmp_path):
    with pytest.raises(Exception, match="does not exist"):
        main(["classify", str(tmp_path / "none.mp4"), "--model", "m", "--labels", "a", "--debug"])


def test_a_warning_in_a_command_is_a_one_line_note(monkeypatch, capsys):
    from viclip_cli import synthetic

    def warn_and_succeed(args):
        warnings.warn("clip [5s-9s] was clamped\n  to the video's 2.0 s", UserWarning, stacklevel=1)
        return 0

    monkeypatch.setattr(synthetic, "run", warn_and_succeed)
    code, _, err = run(capsys, ["synthetic", "--output-dir", "x"])
    assert code == 0
    assert err == "note: clip [5s-9s] was clamped to the video's 2.0 s\n"


@pytest.mark.parametrize(
    ("device", "message"),
    [("bogus", "--device 'bogus' is not a device"), ("cuda:7", "--device 'cuda:7'")],
)
def test_an_unusable_device_is_one_line(device, message, capsys, tiny_model_dir, video_dir, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    argv = ["classify", str(video_dir / "red.mp4"), "--model", str(tiny_model_dir), "--labels", "a,b"]
    code, _, err = run(capsys, [*argv, "--device", device])
    assert code == 2
    assert err.strip().splitlines() == [f"viclip classify: error: {err.split('error: ', 1)[1].strip()}"]
    assert message in err and "Traceback" not in err


def test_cuda_without_a_gpu_says_so(capsys, tiny_model_dir, video_dir, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    argv = ["search", str(video_dir), "--model", str(tiny_model_dir), "--text", "x", "--device", "cuda"]
    code, _, err = run(capsys, argv)
    assert code == 2
    assert (
        err.strip()
        == "viclip search: error: --device 'cuda': no CUDA GPU is available here; use --device cpu"
    )
