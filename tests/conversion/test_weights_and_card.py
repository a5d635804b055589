"""Streaming safetensors writing (sharding, dtypes)."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file
from transformers import AutoModel

from viclip.conversion import (
    VerificationError,
    convert_checkpoint,
    parse_size,
    write_model_weights,
)

from .conftest import TINY_CHECKPOINT, run_convert


def test_writer_matches_safetensors_for_every_shape_and_dtype(tmp_path):
    tensors = {
        "scalar": torch.tensor(2.5),
        "matrix_t": torch.arange(12, dtype=torch.float32).reshape(3, 4).t(),  # a non-contiguous view
        "ints": torch.arange(5, dtype=torch.int64),
        "empty": torch.empty(0, 3),
        "half": torch.ones(3, dtype=torch.float16),
    }
    write_model_weights(tmp_path, tensors, torch.float32, "1GB", progress=False)
    loaded = load_file(tmp_path / "model.safetensors")
    for key, tensor in tensors.items():
        expected = tensor.float() if tensor.is_floating_point() else tensor
        assert loaded[key].dtype == expected.dtype and torch.equal(loaded[key], expected), key
    with safe_open(tmp_path / "model.safetensors", "pt") as f:
        assert f.metadata() == {"format": "pt"}


def test_weights_above_the_shard_size_are_sharded_with_an_index(tmp_path, tiny_config_json, converted_tiny):
    code, output = run_convert(
        tmp_path, TINY_CHECKPOINT, "--config", str(tiny_config_json), "--max-shard-size", "300KB"
    )
    assert code == 0
    index = json.loads((output / "model.safetensors.index.json").read_text())
    shards = sorted(set(index["weight_map"].values()))
    assert shards == [f"model-0000{i}-of-00004.safetensors" for i in range(1, 5)]
    assert not (output / "model.safetensors").exists()
    assert index["metadata"]["total_size"] == (converted_tiny / "model.safetensors").stat().st_size - _header(
        converted_tiny / "model.safetensors"
    )
    for shard in shards:
        assert (output / shard).stat().st_size <= 300_000 + _header(output / shard)
    reference = AutoModel.from_pretrained(converted_tiny).state_dict()
    sharded = AutoModel.from_pretrained(output).state_dict()
    assert all(torch.equal(sharded[k], reference[k]) for k in reference)


def _header(path) -> int:
    with open(path, "rb") as f:
        return 8 + int.from_bytes(f.read(8), "little")


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_half_precision_conversion_stores_and_declares_the_dtype(
    tmp_path, tiny_config_json, converted_tiny, dtype
):
    code, output = run_convert(tmp_path, TINY_CHECKPOINT, "--config", str(tiny_config_json), "--dtype", dtype)
    assert code == 0
    assert json.loads((output / "config.json").read_text())["dtype"] == dtype
    saved, full = load_file(output / "model.safetensors"), load_file(converted_tiny / "model.safetensors")
    for key, tensor in full.items():
        assert saved[key].dtype == getattr(torch, dtype) and torch.equal(
            saved[key], tensor.to(saved[key].dtype)
        ), key
    assert "stored as " + dtype in (output / "README.md").read_text()


def test_verify_checks_half_precision_folders_too(tmp_path, tiny_config_json, monkeypatch):
    import viclip.conversion.verification as verification

    # The remote-code subprocess is exercised by the session fixture; here it is replaced by the in-process load.
    def local_load(folder, inputs, dtype, config):
        return verification.model_outputs(AutoModel.from_pretrained(folder, dtype=dtype).eval(), inputs)

    monkeypatch.setattr(verification, "run_remote_code_check", local_load)
    with pytest.warns(UserWarning, match="its processor cannot tokenize text"):
        result = convert_checkpoint(
            TINY_CHECKPOINT,
            tmp_path / "bf16",
            config=tiny_config_json,
            dtype="bfloat16",
            verify=True,
            progress=False,
            allow_vocab_mismatch=True,
        )
    assert max(result.verification.local.values()) == 0.0
    assert max(result.verification.remote_code.values()) == 0.0


def test_verify_reports_a_folder_that_differs(tmp_path, tiny_config_json, monkeypatch):
    import viclip.conversion.converter as converter

    real_write = converter.write_model_weights

    def corrupt(folder, tensors, *args, **kwargs):
        tensors = dict(tensors)
        tensors["visual_projection.weight"] = tensors["visual_projection.weight"] + 1.0
        return real_write(folder, tensors, *args, **kwargs)

    monkeypatch.setattr(converter, "write_model_weights", corrupt)
    with pytest.raises(
        VerificationError, match="verification failed \\(AutoModel with viclip\\): logits_per_video"
    ):
        convert_checkpoint(
            TINY_CHECKPOINT,
            tmp_path / "bad",
            config=tiny_config_json,
            verify=True,
            progress=False,
            allow_vocab_mismatch=True,
        )
    assert not (tmp_path / "bad").exists()


@pytest.mark.parametrize("size", ["2GB", "500MB", "1GiB", "300KB", "123"])
def test_shard_sizes_parse_like_transformers(size):
    assert (
        parse_size(size)
        == {"2GB": 2 * 10**9, "500MB": 5 * 10**8, "1GiB": 2**30, "300KB": 300_000, "123": 123}[size]
    )


def test_releasing_written_pages_never_changes_tensor_contents(tmp_path):
    from viclip.conversion.safetensors_writer import release_resident_pages

    anonymous = torch.randn(300_000)
    path = tmp_path / "mapped.pth"
    torch.save({"w": torch.randn(300_000)}, path)
    mapped = torch.load(path, weights_only=True, mmap=True)["w"]
    for tensor in (anonymous, mapped):
        before = tensor.clone()
        release_resident_pages(tensor)
        assert torch.equal(tensor, before)
