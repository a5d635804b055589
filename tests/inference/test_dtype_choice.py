"""dtype="auto": bf16 where the hardware computes it natively (capability mocked), float32 elsewhere."""

from __future__ import annotations

import pytest
import torch

from viclip.inference import dtype_choice
from viclip.inference.dtype_choice import CpuKind, choose_dtype

AVX2 = CpuKind("AVX2", (), "AMD EPYC")
AMX = CpuKind("AVX512", ("amx_tile", "avx512_bf16"), "Intel Xeon")
AVX512_BF16 = CpuKind("AVX512", ("avx512_bf16",), "AMD EPYC 9004")


def test_auto_is_float32_on_a_cpu_without_native_bf16():
    choice = choose_dtype("auto", "cpu", cpu=AVX2)
    assert choice.dtype == "float32"
    assert "AVX2" in choice.summary() and "no native bf16" in choice.summary()


@pytest.mark.parametrize("cpu, feature", [(AMX, "amx_tile"), (AVX512_BF16, "avx512_bf16")])
def test_auto_is_bfloat16_on_a_cpu_with_amx_or_avx512_bf16(cpu, feature):
    choice = choose_dtype("auto", "cpu", cpu=cpu)
    assert choice.dtype == "bfloat16"
    assert choice.summary().startswith("dtype: bfloat16 (auto: the CPU computes bf16 natively")
    assert feature in choice.summary()


def test_auto_follows_the_gpu_bf16_support():
    assert choose_dtype("auto", "cuda", gpu_bf16=True).dtype == "bfloat16"
    assert choose_dtype("auto", "cuda:1", gpu_bf16=False).dtype == "float32"


def test_a_named_dtype_is_kept_and_aliases_resolved():
    assert choose_dtype("bf16", "cpu", cpu=AVX2) == dtype_choice.DtypeChoice("bfloat16", "--dtype bfloat16")
    with pytest.raises(ValueError, match="unknown dtype 'int4'"):
        choose_dtype("int4", "cpu")


def test_cpu_kind_reads_the_mocked_torch_capability(monkeypatch):
    dtype_choice.cpu_kind.cache_clear()
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: True, raising=False)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False, raising=False)
    try:
        assert dtype_choice.cpu_kind().bf16_features == ("amx_tile",)
        assert choose_dtype("auto", "cpu").dtype == "bfloat16"
        monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False, raising=False)
        dtype_choice.cpu_kind.cache_clear()
        kind = dtype_choice.cpu_kind()
        assert kind.bf16_features == () and "no native bf16" in kind.describe()
        assert choose_dtype("auto", "cpu").dtype == "float32"
    finally:
        dtype_choice.cpu_kind.cache_clear()


def test_cpu_kind_falls_back_to_cpuinfo_flags_when_torch_has_no_helper(monkeypatch):
    dtype_choice.cpu_kind.cache_clear()
    monkeypatch.setattr(dtype_choice, "_torch_helper", lambda name: None)
    monkeypatch.setattr(dtype_choice, "_cpuinfo", lambda: ({"avx2", "avx512_bf16"}, "Some CPU"))
    try:
        kind = dtype_choice.cpu_kind()
        assert kind.bf16_features == ("avx512_bf16",) and kind.model_name == "Some CPU"
    finally:
        dtype_choice.cpu_kind.cache_clear()
