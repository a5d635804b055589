"""--optimize openvino: float32 embeddings on OpenVINO (the CPU fast path), its converted-tower cache, and the
one-line error when the ``cpu`` extra is missing; the summary names the dtype and why."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from viclip.embedding import embed_videos, load_embeddings

from .conftest import run_cli as run


@pytest.fixture
def conversions(monkeypatch, tmp_path):
    """The cache in a fresh folder; counts the towers converted (not loaded from the cache)."""
    ov = pytest.importorskip("openvino", reason="the cpu extra (openvino) is not installed")
    monkeypatch.setenv("VICLIP_CACHE", str(tmp_path / "cache"))
    calls = []
    convert = ov.convert_model

    def counting(*args, **kwargs):
        calls.append(1)
        return convert(*args, **kwargs)

    monkeypatch.setattr(ov, "convert_model", counting)
    return calls


def _embeddings(output_dir) -> np.ndarray:
    table, _ = load_embeddings(output_dir)
    order = np.argsort(table["path"].to_numpy(zero_copy_only=False))
    return np.stack(table["embedding"].to_numpy(zero_copy_only=False))[order]


def test_openvino_embeddings_match_float32_and_the_tower_is_converted_once(
    conversions, video_dir, tiny_model_dir, tmp_path
):
    def job(name, optimize):
        embed_videos(
            video_dir, str(tiny_model_dir), tmp_path / name, engine="local", optimize=optimize, progress=False
        )
        return _embeddings(tmp_path / name)

    reference = job("fp32", None)
    fast = job("openvino", "openvino")
    assert (fast * reference).sum(axis=1).min() >= 0.999
    assert len(conversions) == 1
    again = job("openvino-again", "openvino")  # a second job loads the cached tower
    assert len(conversions) == 1
    np.testing.assert_allclose(again, fast, atol=1e-6)


def test_the_cached_tower_is_rebuilt_for_other_weights(conversions, tiny_model):
    from viclip import ViCLIPModel
    from viclip.inference.openvino_tower import converted_tower

    other = ViCLIPModel(tiny_model.config).eval()
    with torch.no_grad():
        for parameter in other.parameters():
            parameter.normal_(std=0.02)
    first = converted_tower(tiny_model, num_frames=8, image_size=32)
    assert converted_tower(tiny_model, num_frames=8, image_size=32) == first
    second = converted_tower(other, num_frames=8, image_size=32)
    assert second != first and second.is_file() and len(conversions) == 2


def test_a_missing_runtime_is_one_line_naming_the_extra(
    capsys, monkeypatch, video_dir, tiny_model_dir, tmp_path
):
    monkeypatch.setitem(sys.modules, "openvino", None)  # import openvino fails, find_spec finds nothing
    code, out, err = run(
        capsys, "embed", "--inputs", video_dir, "--model", tiny_model_dir, "--output-dir", tmp_path / "emb",
        "--optimize", "openvino",
    )  # fmt: skip
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        "viclip embed: error: --optimize openvino needs OpenVINO: pip install 'viclip[cpu]'"
    ]
    assert not (tmp_path / "emb").exists()
    from viclip.inference.openvino_tower import MissingRuntimeError, require_openvino

    with pytest.raises(MissingRuntimeError, match=r"pip install 'viclip\[cpu\]'"):
        require_openvino()


def test_the_embed_summary_names_the_dtype_and_why(capsys, video_dir, tiny_model_dir, tmp_path, monkeypatch):
    from viclip.inference import dtype_choice

    monkeypatch.setattr(dtype_choice, "cpu_kind", lambda: dtype_choice.CpuKind("AVX2", (), "AMD EPYC"))
    code, out, _ = run(
        capsys, "embed", "--inputs", video_dir, "--model", tiny_model_dir, "--output-dir", tmp_path / "emb",
        "--engine", "local", "--quiet",
    )  # fmt: skip
    assert code == 0
    assert "; dtype: float32 (auto: the CPU (AVX2) has no native bf16" in out
