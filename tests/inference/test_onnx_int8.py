"""optimize="onnx-int8": the video tower in int8 on ONNX Runtime within cosine 0.999 of float32, its quantized
tower cached per model (reused by a second job, rebuilt for other weights), and one line when the runtime is
missing."""

from __future__ import annotations

import copy
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from viclip import ViCLIPModel
from viclip.inference import optimize_for_inference


@pytest.fixture
def quantizations(monkeypatch, tmp_path):
    """The cache in a fresh folder; counts the towers exported and quantized (not loaded from the cache)."""
    pytest.importorskip("onnx", reason="the cpu extra (onnx) is not installed")
    pytest.importorskip("onnxruntime", reason="the cpu extra (onnxruntime) is not installed")
    import onnxruntime.quantization

    monkeypatch.setenv("VICLIP_CACHE", str(tmp_path / "cache"))
    calls = []
    quantize = onnxruntime.quantization.quantize_dynamic

    def counting(*args, **kwargs):
        calls.append(1)
        return quantize(*args, **kwargs)

    monkeypatch.setattr(onnxruntime.quantization, "quantize_dynamic", counting)
    return calls


def _video_features(model, pixels: torch.Tensor) -> torch.Tensor:
    with torch.inference_mode():
        return F.normalize(model.get_video_features(pixel_values_videos=pixels).pooler_output, dim=-1)


@pytest.mark.parametrize("vnni", [True, False], ids=["signed-weights-with-vnni", "unsigned-weights-without"])
def test_int8_embeddings_are_within_cosine_0999_of_float32_and_the_tower_is_quantized_once(
    quantizations, tiny_model, monkeypatch, vnni
):
    from viclip.inference import onnx_int8_tower

    monkeypatch.setattr(onnx_int8_tower, "cpu_has_vnni", lambda: vnni)
    pixels = torch.randn(3, 8, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    reference = _video_features(tiny_model, pixels)
    fast = _video_features(optimize_for_inference(copy.deepcopy(tiny_model), "onnx-int8"), pixels)
    cosine = (fast * reference).sum(dim=-1)
    assert cosine.min() >= 0.999  # close to float32
    assert (fast - reference).abs().max() > 1e-4  # and really int8
    assert len(quantizations) == 1
    # A second job (a new model object, the same weights) loads the cached tower; a clip gets the same
    # embedding alone as in a batch (activation ranges are per clip, not per batch).
    again = _video_features(optimize_for_inference(copy.deepcopy(tiny_model), "onnx-int8"), pixels[:1])
    assert len(quantizations) == 1
    torch.testing.assert_close(again, fast[:1], atol=0, rtol=0)


def test_the_quantized_tower_is_rebuilt_for_other_weights(quantizations, tiny_model):
    from viclip.inference.onnx_int8_tower import quantized_tower

    other = ViCLIPModel(tiny_model.config).eval()
    with torch.no_grad():
        for parameter in other.parameters():
            parameter.normal_(std=0.02)
    first = quantized_tower(tiny_model, num_frames=8, image_size=32)
    assert quantized_tower(tiny_model, num_frames=8, image_size=32) == first
    second = quantized_tower(other, num_frames=8, image_size=32)
    assert second != first and second.is_file() and len(quantizations) == 2
    assert [p.name for p in first.parent.iterdir()] == ["tower.onnx"]  # the float32 export is not kept


def test_embed_with_onnx_int8_names_the_path_in_its_summary(
    quantizations, capsys, video_dir, tiny_model_dir, tmp_path
):
    from viclip.embedding import load_embeddings
    from viclip_cli import main

    def job(name: str, *flags: str) -> np.ndarray:
        argv = ["embed", "--inputs", video_dir, "--model", tiny_model_dir, "--output-dir", tmp_path / name]
        assert main([str(a) for a in [*argv, "--engine", "local", "--quiet", *flags]]) == 0
        table, _ = load_embeddings(tmp_path / name)
        table = table.sort_by("path")
        return np.stack(table["embedding"].to_numpy(zero_copy_only=False))

    reference = job("fp32")
    fast = job("int8", "--optimize", "onnx-int8")
    out = capsys.readouterr().out
    assert (fast * reference).sum(axis=1).min() >= 0.999
    assert (
        "dtype: float32 (auto: --optimize onnx-int8 runs the video tower in int8, the rest in float32)" in out
    )
    assert len(quantizations) == 1


def test_a_missing_onnx_runtime_is_one_line_naming_the_extra(
    capsys, monkeypatch, video_dir, tiny_model_dir, tmp_path
):
    from viclip.inference.export_cache import MissingRuntimeError
    from viclip.inference.onnx_int8_tower import require_onnxruntime
    from viclip_cli import main

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails, find_spec finds nothing
    argv = ["embed", "--inputs", video_dir, "--model", tiny_model_dir, "--output-dir", tmp_path / "emb"]
    try:
        code = main([str(a) for a in [*argv, "--optimize", "onnx-int8"]])
    except SystemExit as exit_info:
        code = exit_info.code
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        "viclip embed: error: --optimize onnx-int8 needs ONNX Runtime: pip install 'viclip[cpu]'"
    ]
    assert not (tmp_path / "emb").exists()
    with pytest.raises(MissingRuntimeError, match=r"pip install 'viclip\[cpu\]'"):
        require_onnxruntime()


def test_score_viclip_summary_names_the_dtype_and_why(
    capsys, monkeypatch, video_dir, tiny_model_dir, tmp_path
):
    from viclip.inference import dtype_choice
    from viclip_cli import main

    monkeypatch.setattr(dtype_choice, "cpu_kind", lambda: dtype_choice.CpuKind("AVX2", (), "AMD EPYC"))
    clips = tmp_path / "clips.csv"
    clips.write_text(f"path,caption\n{video_dir / 'red.mp4'},a red square\n")
    argv = [
        "score",
        "--protocol",
        "viclip",
        "--inputs",
        clips,
        "--model",
        tiny_model_dir,
        "--engine",
        "local",
    ]
    assert main([str(a) for a in [*argv, "--quiet"]]) == 0
    out = capsys.readouterr().out
    assert (
        "dtype: float32 (auto: the CPU (AVX2) has no native bf16, where bf16 runs emulated and slower)" in out
    )


def _with_outlier_channels(model: ViCLIPModel) -> ViCLIPModel:
    """A copy whose LayerNorms have a few channels far wider than the rest, as trained ViTs have."""
    model = copy.deepcopy(model)
    generator = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for name, parameter in model.vision_model.named_parameters():
            if "norm" in name and name.endswith("weight"):
                parameter.copy_(1 + 0.1 * torch.randn(parameter.shape, generator=generator))
                parameter[:3] *= 12
            elif "norm" in name and name.endswith("bias"):
                parameter.copy_(0.05 * torch.randn(parameter.shape, generator=generator))
                parameter[3:5] += 3
    return model


def test_moving_layer_norm_scales_into_the_linears_keeps_the_float_tower(tiny_model):
    from viclip.inference.export_cache import VideoTower
    from viclip.inference.onnx_int8_tower import smoothed

    model = _with_outlier_channels(tiny_model)
    tower = VideoTower(model).eval()
    moved = smoothed(tower)
    pixels = torch.randn(2, 8, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        torch.testing.assert_close(moved(pixels), tower(pixels), atol=1e-5, rtol=1e-4)
    norm = moved.vision_model.encoder.layers[0].layer_norm1.weight
    assert norm.abs().max() / norm.abs().median() < 4  # the 12x channels are evened out
    assert model.vision_model.encoder.layers[0].layer_norm1.weight[0] > 5  # the model itself is unchanged
