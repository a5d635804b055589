"""--quiet silences the dependencies' bars too (transformers' "Loading weights"), and only for that command."""

from __future__ import annotations

import os

from transformers.utils import logging as transformers_logging

from viclip_cli import main


def test_quiet_hides_the_loading_weights_bar_and_restores_it(tiny_model_dir, video_dir, tmp_path, capsys):
    listing = tmp_path / "msrvtt.csv"
    listing.write_text("key,vid_key,video_id,sentence\nret0,msr0,red,a red clip\n")
    argv = [
        "evaluate",
        "msrvtt",
        "--csv",
        str(listing),
        "--video-root",
        str(video_dir),
        "--model",
        str(tiny_model_dir),
    ]
    assert transformers_logging.is_progress_bar_enabled()
    assert main([*argv, "--quiet"]) == 0
    assert capsys.readouterr().err == ""
    assert transformers_logging.is_progress_bar_enabled()
    assert "HF_HUB_DISABLE_PROGRESS_BARS" not in os.environ
    assert main(argv) == 0
    assert "Loading weights" in capsys.readouterr().err  # what --quiet took away
