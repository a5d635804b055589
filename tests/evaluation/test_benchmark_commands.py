"""What ``viclip evaluate kinetics`` and ``viclip evaluate msrvtt`` share (viclip_cli._benchmark): every usage error
names its flag and comes before the model is loaded."""

from __future__ import annotations

import pytest

from viclip_cli import _benchmark, main

LISTING_FLAG = {"kinetics": "--annotations", "msrvtt": "--csv"}


@pytest.fixture
def no_model_loading(monkeypatch):
    def refuse(args):
        raise AssertionError("the model was loaded before the inputs were checked")

    monkeypatch.setattr(_benchmark, "load_model", refuse)


@pytest.mark.parametrize("benchmark", sorted(LISTING_FLAG))
def test_a_missing_listing_is_a_usage_error_naming_flag_and_file(
    benchmark, tmp_path, capsys, no_model_loading
):
    flag = LISTING_FLAG[benchmark]
    argv = ["evaluate", benchmark, flag, str(tmp_path / "none.csv"), "--video-root", str(tmp_path)]
    assert main([*argv, "--model", str(tmp_path / "model")]) == 2
    err = capsys.readouterr().err
    assert flag in err and "none.csv" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("benchmark", sorted(LISTING_FLAG))
def test_a_missing_video_root_and_an_unwritable_output_are_usage_errors(
    benchmark, tmp_path, capsys, no_model_loading
):
    listing = tmp_path / "list.csv"
    listing.write_text("label,youtube_id,time_start,time_end,video_id,sentence\n")
    base = ["evaluate", benchmark, LISTING_FLAG[benchmark], str(listing), "--model", str(tmp_path / "model")]
    assert main([*base, "--video-root", str(tmp_path / "nowhere")]) == 2
    assert "--video-root" in capsys.readouterr().err
    (tmp_path / "a_file").write_text("x")
    assert main([*base, "--video-root", str(tmp_path), "--output", str(tmp_path / "a_file" / "m.json")]) == 2
    assert "--output" in capsys.readouterr().err
