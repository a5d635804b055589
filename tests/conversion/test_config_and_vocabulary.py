"""`viclip convert --config`: both config formats, every key checked; a vocabulary the bundled tokenizer does not
fit is refused (or converted on purpose and said so); `--verify` runs real text through the saved tokenizer."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from viclip.conversion import ConversionError, load_config_file
from viclip.conversion.verification import tokenized_texts
from viclip_testing import TINY_DEV, tiny_dev_config

from .conftest import TINY_CHECKPOINT, run_convert

ORIGINAL_CONFIG = TINY_DEV / "original_config.json"


def _error_line(capsys) -> str:
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    return lines[0]


def test_the_original_codes_config_file_is_accepted_and_mapped(tmp_path, capsys, tiny_config_json):
    with pytest.warns(
        UserWarning, match="ignored keys that do not describe the model: name, num_state_dict_keys"
    ):
        config = load_config_file(ORIGINAL_CONFIG)
    assert config.to_dict() == tiny_dev_config().to_dict()

    code, original = run_convert(tmp_path, TINY_CHECKPOINT, "--config", str(ORIGINAL_CONFIG), name="original")
    assert code == 0, capsys.readouterr().err
    code, viclip = run_convert(tmp_path, TINY_CHECKPOINT, "--config", str(tiny_config_json), name="viclip")
    assert code == 0
    a, b = load_file(original / "model.safetensors"), load_file(viclip / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[key], b[key]) for key in a)


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ({"name": "tiny", "seed": 3}, "keys a ViCLIPConfig does not know: name, seed"),
        ({"projection_dim": 32, "vision_confg": {}}, "does not know: vision_confg"),
        ({"vision_config": {"hiden_size": 64}}, "does not know: vision_config.hiden_size"),
        ({}, "holds no ViCLIPConfig key"),
        ({"projection_dim": 32, "vision_width": 64}, "mixes ViCLIPConfig keys (projection_dim)"),
        ({"vision_width": 64, "vision_layers": 2}, "lacks vision_heads, patch_size, text_width"),
    ],
)
def test_a_config_with_unknown_or_no_known_keys_is_refused_in_one_line_naming_them(
    tmp_path, capsys, content, named
):
    config = tmp_path / "config.json"
    config.write_text(json.dumps(content))
    code, output = run_convert(tmp_path, TINY_CHECKPOINT, "--config", str(config))
    assert code == 2
    line = _error_line(capsys)
    assert named in line and str(config) in line, line
    assert not output.exists()


def test_an_undetectable_size_is_a_usage_error_naming_the_flags(tmp_path, capsys):
    code, _output = run_convert(tmp_path, TINY_CHECKPOINT)
    assert code == 2
    line = _error_line(capsys)
    assert "cannot detect the model size" in line and "--size l|b" in line and "--config CONFIG.json" in line


def test_a_vocabulary_the_tokenizer_does_not_fit_is_refused_without_the_flag(
    tmp_path, capsys, tiny_config_json
):
    from viclip_cli import main

    output = tmp_path / "out"
    argv = ["convert", "--checkpoint", str(TINY_CHECKPOINT), "--output-dir", str(output), "--quiet"]
    code = main([*argv, "--config", str(tiny_config_json)])
    assert code == 2
    line = _error_line(capsys)
    assert "token ids up to 49407" in line and "vocabulary has 1000 tokens" in line
    assert "--allow-vocab-mismatch" in line
    assert not output.exists()


def test_a_vocabulary_mismatch_converted_on_purpose_is_said_and_written_in_the_card(
    tmp_path, capsys, tiny_config_json
):
    code, output = run_convert(tmp_path, TINY_CHECKPOINT, "--config", str(tiny_config_json))
    assert code == 0
    err = capsys.readouterr().err
    assert err.startswith("note: ") and "its processor cannot tokenize text" in err
    assert "cannot read text through the bundled tokenizer" in (output / "README.md").read_text()


def test_verify_runs_real_text_through_the_saved_tokenizer(tiny_model, tmp_path, capsys, monkeypatch):
    from transformers import AutoModel

    import viclip.conversion.verification as verification

    def local_load(
        folder, inputs, dtype, config
    ):  # the remote-code subprocess is tested in test_convert_tiny
        return verification.model_outputs(AutoModel.from_pretrained(folder, dtype=dtype).eval(), inputs)

    monkeypatch.setattr(verification, "run_remote_code_check", local_load)
    saved = tmp_path / "final"
    tiny_model.save_pretrained(saved)  # the full CLIP vocabulary: the bundled tokenizer fits
    code, _output = run_convert(tmp_path, saved, "--verify")
    assert code == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "real text through the saved tokenizer: text_embeds 0.0e+00" in out


def test_verify_refuses_a_tokenizer_whose_ids_exceed_the_vocabulary(tiny_processor):
    with pytest.raises(
        ConversionError, match="gives token id 49407 for real text, but the model's text vocabulary"
    ):
        tokenized_texts(tiny_processor, tiny_dev_config())
