"""`viclip convert` completes a folder that holds ViCLIPModel weights (save_pretrained, an older `viclip train`)."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file

from viclip.hub import check_folder

from .conftest import run_convert


@pytest.mark.parametrize("with_config_flag", [True, False])
def test_plain_saved_folder_converts_into_a_complete_hub_folder(
    tiny_model, tmp_path, capsys, with_config_flag
):
    saved = tmp_path / "final"
    tiny_model.save_pretrained(saved)  # weights and config only: no processor, remote code or card
    extra = ["--config", str(saved / "config.json")] if with_config_flag else []
    code, output = run_convert(tmp_path, saved, *extra)
    assert code == 0, capsys.readouterr().err
    check_folder(output)
    converted = load_file(output / "model.safetensors")
    for key, tensor in tiny_model.state_dict().items():
        assert torch.equal(converted[key], tensor), key


def test_saved_folder_of_another_size_lists_its_problems(tiny_model, tmp_path, capsys, tiny_config_json):
    saved = tmp_path / "final"
    tiny_model.save_pretrained(saved)
    capsys.readouterr()  # the saving's own progress bar
    code, output = run_convert(tmp_path, saved, "--config", str(tiny_config_json))
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "holds ViCLIPModel weights that do not fit" in err and "shape mismatches" in err
    assert not output.exists()
