"""The tiny-dev checkpoint converts into a folder that reproduces the original code's outputs, with viclip and through
remote code in a process that cannot import viclip."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import torch
from safetensors.torch import load_file
from transformers import AutoModel, AutoProcessor

from viclip import ViCLIPModel
from viclip.hub import check_remote_code_imports
from viclip.hub.model_card import parse_card_metadata
from viclip.processing import ViCLIPProcessor

ATOL = 1e-5
EXPECTED_FILES = {
    "README.md", "config.json", "model.safetensors", "processor_config.json", "tokenizer.json",
    "tokenizer_config.json", "configuration_viclip.py", "modeling_viclip.py", "processing_viclip.py",
    "video_processing_viclip.py", "text_cleaning.py", "video_reading.py", "video_clip.py", "errors.py",
}  # fmt: skip
ALLOWED_THIRD_PARTY = {
    "torch",
    "transformers",
    "huggingface_hub",
    "numpy",
    "torchvision",
    "PIL",
    "av",
    "ftfy",
}


def test_converted_folder_has_weights_config_processor_remote_code_and_card(converted_tiny):
    assert {p.name for p in converted_tiny.iterdir()} == EXPECTED_FILES
    config = json.loads((converted_tiny / "config.json").read_text())
    assert config["auto_map"] == {
        "AutoConfig": "configuration_viclip.ViCLIPConfig",
        "AutoModel": "modeling_viclip.ViCLIPModel",
    }
    assert config["dtype"] == "float32" and config["architectures"] == ["ViCLIPModel"]
    processor = json.loads((converted_tiny / "processor_config.json").read_text())
    assert processor["auto_map"]["AutoProcessor"] == "processing_viclip.ViCLIPProcessor"
    assert processor["video_processor"]["auto_map"]["AutoVideoProcessor"] == (
        "video_processing_viclip.ViCLIPVideoProcessor"
    )
    assert "_auto_class" not in processor["video_processor"]


def test_converted_folder_reproduces_original_outputs_with_viclip(converted_tiny, original_tiny_reference):
    ref = original_tiny_reference
    model = AutoModel.from_pretrained(converted_tiny).eval()
    assert isinstance(model, ViCLIPModel)
    with torch.no_grad():
        video = model.get_video_features(pixel_values_videos=ref["pixel_values_video"])
        text = model.get_text_features(input_ids=ref["input_ids"])
    torch.testing.assert_close(video.pooler_output, ref["video_embeds"], atol=ATOL, rtol=0)
    torch.testing.assert_close(text.pooler_output, ref["text_embeds"], atol=ATOL, rtol=0)
    torch.testing.assert_close(video.last_hidden_state, ref["video_last_hidden_state"], atol=ATOL, rtol=0)
    torch.testing.assert_close(model.logit_scale.exp(), 1.0 / ref["temp"].reshape(()), rtol=1e-6, atol=0)


def test_auto_processor_loads_and_gives_pixel_values_of_the_model_size(converted_tiny):
    processor = AutoProcessor.from_pretrained(converted_tiny)
    assert isinstance(processor, ViCLIPProcessor)
    frames = torch.randint(0, 256, (20, 40, 56, 3), dtype=torch.uint8).numpy()
    out = processor(text=["a dog in the snow"], videos=[frames], return_tensors="pt")
    assert tuple(out["pixel_values_videos"].shape) == (1, 8, 3, 32, 32)
    assert tuple(out["input_ids"].shape) == (1, 32)


_PROBE = r"""
import sys
sys.modules["viclip"] = None
try:
    import viclip
except ImportError:
    pass
else:
    raise SystemExit("viclip importable")
import torch
from safetensors.torch import load_file, save_file
from transformers import AutoModel, AutoProcessor

folder, ref_path, out_path = sys.argv[1:4]
ref = load_file(ref_path)
model = AutoModel.from_pretrained(folder, trust_remote_code=True).eval()
processor = AutoProcessor.from_pretrained(folder, trust_remote_code=True)
frames = torch.randint(0, 256, (20, 40, 56, 3), dtype=torch.uint8).numpy()
with torch.no_grad():
    video = model.get_video_features(pixel_values_videos=ref["pixel_values_video"])
    text = model.get_text_features(input_ids=ref["input_ids"])
save_file({
    "video_embeds": video.pooler_output, "text_embeds": text.pooler_output,
    "video_last_hidden_state": video.last_hidden_state.contiguous(),
    "pixel_values_videos": processor(videos=[frames], return_tensors="pt")["pixel_values_videos"],
}, out_path)
print(type(model).__module__, type(processor).__module__, type(processor.video_processor).__module__)
print(sorted(m for m in sys.modules if m.split(".")[0] == "viclip" and sys.modules[m] is not None))
"""


def test_converted_folder_reproduces_original_outputs_through_remote_code_without_viclip(
    converted_tiny, original_tiny_reference, tmp_path
):
    from viclip_testing import TINY_DEV

    probe = tmp_path / "probe.py"
    probe.write_text(_PROBE)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_MODULES_CACHE": str(tmp_path / "modules")}
    env.pop("PYTHONPATH", None)
    command = [sys.executable, "-I", str(probe), str(converted_tiny), str(TINY_DEV / "reference_io.safetensors"),
               str(tmp_path / "out.safetensors")]  # fmt: skip
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    modules, viclip_modules = result.stdout.strip().splitlines()[-2:]
    assert all(name.startswith("transformers_modules.") for name in modules.split()), modules
    assert viclip_modules == "[]"
    out, ref = load_file(tmp_path / "out.safetensors"), original_tiny_reference
    torch.testing.assert_close(out["video_embeds"], ref["video_embeds"], atol=ATOL, rtol=0)
    torch.testing.assert_close(out["text_embeds"], ref["text_embeds"], atol=ATOL, rtol=0)
    torch.testing.assert_close(
        out["video_last_hidden_state"], ref["video_last_hidden_state"], atol=ATOL, rtol=0
    )
    assert tuple(out["pixel_values_videos"].shape) == (1, 8, 3, 32, 32)


def test_remote_code_files_import_only_siblings_and_installed_packages(converted_tiny):
    third_party = check_remote_code_imports(converted_tiny)
    assert set(third_party) <= ALLOWED_THIRD_PARTY
    assert {"torch", "transformers"} <= set(third_party)
    for path in converted_tiny.glob("*.py"):
        assert "import viclip" not in path.read_text() and "from viclip" not in path.read_text(), path.name


def test_model_card_has_hub_metadata_and_no_results_for_unknown_weights(converted_tiny):
    card = (converted_tiny / "README.md").read_text()
    metadata = parse_card_metadata(card)
    assert metadata["license"] == "apache-2.0"
    assert metadata["library_name"] == "transformers"
    assert metadata["pipeline_tag"] == "video-classification"
    assert {"viclip", "custom_code", "video"} <= set(metadata["tags"])
    assert "Published results" not in card
    assert "223,937 parameters" in card and "8 frames of 32x32" in card


def test_weights_are_the_converted_original_tensors(
    converted_tiny, original_tiny_state_dict, tiny_dev_viclip_config
):
    from viclip import convert_original_state_dict

    expected = convert_original_state_dict(original_tiny_state_dict, tiny_dev_viclip_config)
    saved = load_file(converted_tiny / "model.safetensors")
    assert saved.keys() == expected.keys()
    for key, tensor in expected.items():
        assert torch.equal(saved[key], tensor), key
