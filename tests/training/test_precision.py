"""One mixed-precision policy for both trainers: "auto" is bf16 where supported, else fp16 on CUDA, else no."""

from __future__ import annotations

import pytest
import torch

from viclip.training import resolve_mixed_precision, trainer_precision_flags


@pytest.mark.parametrize(
    ("cuda", "bf16", "expected"), [(False, False, "no"), (True, True, "bf16"), (True, False, "fp16")]
)
def test_auto_is_bf16_where_supported_else_fp16_on_cuda_else_no(monkeypatch, cuda, bf16, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: bf16)
    assert resolve_mixed_precision("auto") == expected
    assert trainer_precision_flags("auto") == {"bf16": expected == "bf16", "fp16": expected == "fp16"}


def test_explicit_modes_are_kept_and_unknown_ones_refused():
    assert [resolve_mixed_precision(m) for m in ("bf16", "fp16", "no")] == ["bf16", "fp16", "no"]
    with pytest.raises(ValueError, match="mixed_precision must be one of"):
        resolve_mixed_precision("fp8")


def test_both_trainers_resolve_auto_through_the_same_function(monkeypatch):
    from viclip.training import accelerator as accelerate_training

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: False)
    assert accelerate_training.resolve_mixed_precision is resolve_mixed_precision
    assert trainer_precision_flags("auto") == {"bf16": False, "fp16": True}
