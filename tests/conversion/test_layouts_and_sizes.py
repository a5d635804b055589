"""Every checkpoint layout found in the wild loads to the same original state dict; L/14 and B/16 are told apart
from the shapes alone."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file, save_file

from viclip import ViCLIPConfig, convert_original_state_dict
from viclip.conversion import ConversionError, detect_preset, load_checkpoint, resolve_config
from viclip_testing import ASSETS

from .conftest import TINY_CHECKPOINT, run_convert


def _assert_same_tensors(actual: dict, expected: dict) -> None:
    assert actual.keys() == expected.keys()
    for key in expected:
        assert torch.equal(actual[key], expected[key]), key


def test_released_layout_is_read_with_mmap(original_tiny_sd):
    loaded = load_checkpoint(TINY_CHECKPOINT)
    assert loaded.layout.startswith("{'model': state_dict}")
    _assert_same_tensors(loaded.state_dict, original_tiny_sd)


@pytest.mark.parametrize(
    "wrap, layout",
    [
        (lambda sd: sd, "bare state dict"),
        (lambda sd: {"state_dict": sd, "epoch": 3}, "{'state_dict': state_dict}"),
        (lambda sd: {"model": {f"module.{k}": v for k, v in sd.items()}}, "{'model': state_dict}"),
        (lambda sd: {f"module.{k}": v for k, v in sd.items()}, "bare state dict"),
    ],
    ids=["bare", "state_dict", "module-prefix-in-model", "module-prefix-bare"],
)
def test_pickle_layouts_give_the_original_state_dict(tmp_path, original_tiny_sd, wrap, layout):
    path = tmp_path / "checkpoint.pth"
    torch.save(wrap(original_tiny_sd), path)
    loaded = load_checkpoint(path)
    assert loaded.layout.startswith(layout)
    _assert_same_tensors(loaded.state_dict, original_tiny_sd)


def test_legacy_non_zip_pickle_loads(tmp_path, original_tiny_sd):
    path = tmp_path / "legacy.pth"
    torch.save({"model": original_tiny_sd}, path, _use_new_zipfile_serialization=False)
    _assert_same_tensors(load_checkpoint(path).state_dict, original_tiny_sd)


def test_hf_repo_safetensors_file_and_folder_load_memory_mapped(tmp_path, original_tiny_sd):
    folder = tmp_path / "ViCLIP-tiny-hf"
    folder.mkdir()
    save_file({k: v.contiguous() for k, v in original_tiny_sd.items()}, folder / "model.safetensors")
    for source in (folder / "model.safetensors", folder):
        loaded = load_checkpoint(source)
        assert "safetensors" in loaded.layout
        _assert_same_tensors(loaded.state_dict, original_tiny_sd)


def test_sharded_hf_folder_loads(tmp_path, original_tiny_sd):
    keys = sorted(original_tiny_sd)
    halves = {"a.safetensors": keys[: len(keys) // 2], "b.safetensors": keys[len(keys) // 2 :]}
    for name, part in halves.items():
        save_file({k: original_tiny_sd[k].contiguous() for k in part}, tmp_path / name)
    weight_map = {k: name for name, part in halves.items() for k in part}
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    _assert_same_tensors(load_checkpoint(tmp_path).state_dict, original_tiny_sd)


def test_safetensors_layout_converts_to_the_same_weights(
    tmp_path, original_tiny_sd, tiny_config_json, converted_tiny
):
    path = tmp_path / "model.safetensors"
    save_file({k: v.contiguous() for k, v in original_tiny_sd.items()}, path)
    code, output = run_convert(tmp_path, path, "--config", str(tiny_config_json))
    assert code == 0
    _assert_same_tensors(
        load_file(output / "model.safetensors"), load_file(converted_tiny / "model.safetensors")
    )


def _shapes(name: str) -> dict[str, tuple[int, ...]]:
    data = json.loads((ASSETS / f"{name}_state_dict_shapes.json").read_text())
    return {k: tuple(v) for k, v in data["state_dict_shapes"].items()}


@pytest.mark.parametrize("name, preset", [("viclip-l14", "viclip-l14"), ("viclip-b16", "viclip-b16")])
def test_released_sizes_are_detected_and_map_strictly_on_meta(name, preset):
    shapes = _shapes(name)
    assert detect_preset(shapes) == preset
    config, detected = resolve_config(shapes)
    assert detected == preset
    meta = {k: torch.empty(s, device="meta") for k, s in shapes.items()}
    converted = convert_original_state_dict(meta, config)  # strict: every key used, every shape checked
    expected_params = {"viclip-l14": 427_590_145, "viclip-b16": 149_603_841}[preset]
    assert sum(t.numel() for t in converted.values()) == expected_params


def test_size_flag_and_config_override_detection():
    config, preset = resolve_config({}, size="b")
    assert preset == "viclip-b16" and config.vision_config.patch_size == 16
    custom = ViCLIPConfig.from_preset("viclip-l14", vision_config={"num_frames": 16})
    config, preset = resolve_config(_shapes("viclip-b16"), config=custom)
    assert config is custom and preset == "viclip-l14"


def test_unknown_size_asks_for_a_config(original_tiny_sd):
    shapes = {k: tuple(v.shape) for k, v in original_tiny_sd.items()}
    with pytest.raises(ConversionError, match=r"vision width 64, patch 8, 2 vision layers.*--config"):
        detect_preset(shapes)
    with pytest.raises(ConversionError, match=r"lacks vision_encoder\.conv1\.weight"):
        detect_preset({"foo": (1,)})
