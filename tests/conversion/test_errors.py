"""Bad input stops the conversion with one clear line on stderr, a non-zero exit and no output folder."""

from __future__ import annotations

import pytest
import torch

from viclip.conversion import ConversionError, convert_checkpoint

from .conftest import TINY_CHECKPOINT, run_convert


class _WritesAFile:
    """Unpickling this would create a file (a pickle that carries code)."""

    def __init__(self, target: str) -> None:
        self.target = target

    def __reduce__(self):
        return (open, (self.target, "w"))


def _assert_clean_failure(capsys, code: int, output, match: str, expected_code: int = 2) -> str:
    err = capsys.readouterr().err
    assert code == expected_code
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert match in lines[0], lines[0]
    assert not output.exists()
    assert not [p for p in output.parent.iterdir() if ".tmp-" in p.name]  # no temporary folder left behind
    return lines[0]


def test_malicious_pickle_is_refused_and_its_code_never_runs(tmp_path, capsys, tiny_config_json):
    target = tmp_path / "pwned.txt"
    checkpoint = tmp_path / "evil.pth"
    torch.save({"model": {"temp": torch.zeros(()), "payload": _WritesAFile(str(target))}}, checkpoint)
    code, output = run_convert(tmp_path, checkpoint, "--config", str(tiny_config_json))
    line = _assert_clean_failure(capsys, code, output, "refusing to load")
    assert "carries code" in line and "open" in line
    assert not target.exists()


def test_truncated_checkpoint_is_reported(tmp_path, capsys):
    checkpoint = tmp_path / "truncated.pth"
    data = TINY_CHECKPOINT.read_bytes()
    checkpoint.write_bytes(data[: len(data) // 2])
    code, output = run_convert(tmp_path, checkpoint)
    _assert_clean_failure(capsys, code, output, "truncated")


def test_missing_checkpoint_is_reported(tmp_path, capsys):
    code, output = run_convert(tmp_path, tmp_path / "nope.pth")
    _assert_clean_failure(capsys, code, output, "does not exist")


def test_text_file_is_named_as_not_a_checkpoint(tmp_path, capsys):
    checkpoint = tmp_path / "notes.pth"
    checkpoint.write_text("these are my notes about the model\n")
    code, output = run_convert(tmp_path, checkpoint)
    line = _assert_clean_failure(capsys, code, output, "is a text file, not a checkpoint")
    assert "pickle that carries code" not in line


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_weights_are_refused(tmp_path, capsys, original_tiny_sd, tiny_config_json, value):
    weight = original_tiny_sd["vision_encoder.conv1.weight"].clone()
    weight.view(-1)[3] = value
    original_tiny_sd["vision_encoder.conv1.weight"] = weight
    checkpoint = tmp_path / "nan.pth"
    torch.save({"model": original_tiny_sd}, checkpoint)
    code, output = run_convert(tmp_path, checkpoint, "--config", str(tiny_config_json))
    line = _assert_clean_failure(capsys, code, output, "holds 1 non-finite value(s)")
    assert "vision_model.embeddings.patch_embedding.weight" in line


def test_weights_beyond_float16_are_refused_for_float16(tmp_path, capsys, original_tiny_sd, tiny_config_json):
    original_tiny_sd["vision_encoder.conv1.weight"] = original_tiny_sd["vision_encoder.conv1.weight"] * 1e6
    checkpoint = tmp_path / "big.pth"
    torch.save({"model": original_tiny_sd}, checkpoint)
    code, output = run_convert(tmp_path, checkpoint, "--config", str(tiny_config_json), "--dtype", "float16")
    _assert_clean_failure(capsys, code, output, "beyond the range of float16")


def test_wrong_size_lists_the_mismatched_shapes(tmp_path, capsys):
    code, output = run_convert(tmp_path, TINY_CHECKPOINT, "--size", "l")
    line = _assert_clean_failure(capsys, code, output, "does not fit viclip-l14")
    assert "missing keys (512)" in line
    assert "text_model.embeddings.token_embedding.weight (1000, 48) (expected (49408, 768))" in line


def test_wrong_config_file_lists_the_mismatched_shapes(tmp_path, capsys):
    from viclip import ViCLIPConfig

    config = tmp_path / "b16.json"
    ViCLIPConfig.from_preset("viclip-b16").to_json_file(config)
    code, output = run_convert(tmp_path, TINY_CHECKPOINT, "--config", str(config))
    _assert_clean_failure(capsys, code, output, f"does not fit --config {config}")


def test_undetectable_size_asks_for_config(tmp_path, capsys):
    code, output = run_convert(tmp_path, TINY_CHECKPOINT)
    _assert_clean_failure(capsys, code, output, "cannot detect the model size")


def test_extra_key_is_named(tmp_path, capsys, original_tiny_sd, tiny_config_json):
    original_tiny_sd["vision_encoder.extra_head.weight"] = torch.zeros(2)
    checkpoint = tmp_path / "extra.pth"
    torch.save({"model": original_tiny_sd}, checkpoint)
    code, output = run_convert(tmp_path, checkpoint, "--config", str(tiny_config_json))
    _assert_clean_failure(capsys, code, output, "unexpected keys (1): vision_encoder.extra_head.weight")


def test_missing_key_is_named(tmp_path, capsys, original_tiny_sd, tiny_config_json):
    del original_tiny_sd["text_encoder.ln_final.bias"]
    checkpoint = tmp_path / "missing.pth"
    torch.save({"model": original_tiny_sd}, checkpoint)
    code, output = run_convert(tmp_path, checkpoint, "--config", str(tiny_config_json))
    _assert_clean_failure(capsys, code, output, "missing keys (1): text_model.final_layer_norm.bias")


def test_non_state_dict_pickle_is_reported(tmp_path, capsys):
    checkpoint = tmp_path / "list.pth"
    torch.save({"epoch": 3, "optimizer": {"lr": 0.1}}, checkpoint)
    code, output = run_convert(tmp_path, checkpoint)
    _assert_clean_failure(capsys, code, output, "holds no state dict")


def test_existing_output_is_kept_without_force_and_replaced_with_it(tmp_path, capsys, tiny_config_json):
    output = tmp_path / "out"
    output.mkdir()
    (output / "keep.txt").write_text("mine")
    code, _ = run_convert(tmp_path, TINY_CHECKPOINT, "--config", str(tiny_config_json))
    err = capsys.readouterr().err
    assert code == 2 and "already exists and is not empty; pass --force" in err
    assert (output / "keep.txt").read_text() == "mine"

    code, _ = run_convert(tmp_path, TINY_CHECKPOINT, "--config", str(tiny_config_json), "--force")
    assert code == 0
    assert not (output / "keep.txt").exists() and (output / "model.safetensors").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary or backup folder left


def test_failure_while_writing_leaves_nothing_behind(tmp_path, monkeypatch, tiny_config_json):
    import viclip.conversion.converter as converter

    def fail_after_weights(folder, *args, **kwargs):
        (folder / "model.safetensors").write_bytes(b"partial")
        raise ConversionError("disk full")

    monkeypatch.setattr(converter, "write_model_weights", fail_after_weights)
    output = tmp_path / "nested" / "out"
    with pytest.raises(ConversionError, match="disk full"):
        convert_checkpoint(
            TINY_CHECKPOINT, output, config=tiny_config_json, progress=False, allow_vocab_mismatch=True
        )
    assert list(tmp_path.iterdir()) == []  # the created parent is gone too


@pytest.mark.parametrize(
    "args, match",
    [
        (["--max-shard-size", "lots"], "invalid size 'lots'"),
        (["--release", "l14-internvid-10m-flt"], "viclip-l14 model"),
    ],
)
def test_bad_options_are_reported(tmp_path, capsys, tiny_config_json, args, match):
    code, output = run_convert(tmp_path, TINY_CHECKPOINT, "--config", str(tiny_config_json), *args)
    _assert_clean_failure(capsys, code, output, match)


def test_size_and_config_together_are_refused_by_the_parser(tmp_path, capsys, tiny_config_json):
    with pytest.raises(SystemExit) as exit_info:
        run_convert(tmp_path, TINY_CHECKPOINT, "--size", "l", "--config", str(tiny_config_json))
    assert exit_info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err
