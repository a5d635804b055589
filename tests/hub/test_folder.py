"""`save_hub_folder`: every folder the library saves is complete, atomic, loads both ways and can be pushed."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from viclip.hub import HubFolderError, atomic_folder, check_folder, check_remote_code_imports, save_hub_folder


@pytest.mark.parametrize("kind", ["model", "classifier"])
def test_saved_folder_is_complete_and_pushable(kind, tiny_model, tiny_classifier, tiny_processor, tmp_path):
    model = tiny_model if kind == "model" else tiny_classifier
    folder = tmp_path / kind
    files = save_hub_folder(model, tiny_processor, folder)
    assert {
        "config.json",
        "model.safetensors",
        "README.md",
        "processor_config.json",
        "modeling_viclip.py",
    } <= set(files)
    check_folder(
        folder
    )  # what `viclip push` checks: files, self-contained remote code, loads as the saved class
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folder left


@pytest.mark.parametrize("kind", ["model", "classifier"])
def test_saved_folder_loads_through_remote_code_without_the_package(
    kind, tiny_model, tiny_classifier, tiny_processor, tmp_path
):
    model = tiny_model if kind == "model" else tiny_classifier
    folder = tmp_path / kind
    save_hub_folder(model, tiny_processor, folder)
    auto = "AutoModel" if kind == "model" else "AutoModelForVideoClassification"
    pixels = torch.rand(1, 8, 3, 32, 32)
    with torch.no_grad():
        expected = (
            model.get_video_features(pixel_values_videos=pixels).pooler_output
            if kind == "model"
            else model(pixel_values_videos=pixels).logits
        )
    torch.save(pixels, tmp_path / "pixels.pt")
    script = f"""
import sys, torch
sys.modules["viclip"] = None
import transformers
model = transformers.{auto}.from_pretrained({str(folder)!r}, trust_remote_code=True).eval()
assert type(model).__module__.startswith("transformers_modules."), type(model).__module__
pixels = torch.load({str(tmp_path / "pixels.pt")!r}, weights_only=True)
with torch.no_grad():
    out = model.get_video_features(pixel_values_videos=pixels).pooler_output if {kind == "model"} else model(pixel_values_videos=pixels).logits
torch.save(out, {str(tmp_path / "out.pt")!r})
transformers.AutoProcessor.from_pretrained({str(folder)!r}, trust_remote_code=True)
"""
    env = {"HF_HUB_OFFLINE": "1", "HF_MODULES_CACHE": str(tmp_path / "modules"), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-I", "-c", script], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    torch.testing.assert_close(
        torch.load(tmp_path / "out.pt", weights_only=True), expected, rtol=0, atol=1e-6
    )


def test_existing_folder_is_kept_without_force(tiny_model, tiny_processor, tmp_path):
    folder = tmp_path / "existing"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    with pytest.raises(HubFolderError, match="already exists; pass --force"):
        save_hub_folder(tiny_model, tiny_processor, folder)
    assert (folder / "keep.txt").read_text() == "mine"
    save_hub_folder(tiny_model, tiny_processor, folder, force=True)
    assert not (folder / "keep.txt").exists() and (folder / "config.json").is_file()


def test_failed_write_leaves_nothing_behind(tmp_path):
    target = tmp_path / "a" / "b" / "out"
    with pytest.raises(RuntimeError, match="boom"), atomic_folder(target) as work:
        (work / "partial.bin").write_bytes(b"x")
        raise RuntimeError("boom")
    assert not (tmp_path / "a").exists()


def test_remote_code_import_check_rejects_viclip_and_non_sibling_imports(tmp_path):
    (tmp_path / "modeling_x.py").write_text("from viclip.modeling import ViCLIPModel\n")
    with pytest.raises(HubFolderError, match=r"modeling_x\.py imports viclip\.modeling"):
        check_remote_code_imports(tmp_path)
    (tmp_path / "modeling_x.py").write_text("from .missing_sibling import X\n")
    with pytest.raises(HubFolderError, match=r"modeling_x\.py imports \.missing_sibling"):
        check_remote_code_imports(tmp_path)
