import copy

import torch

from viclip.inference import ModelSpec


def test_an_in_memory_model_is_used_as_it_is_when_already_in_the_jobs_dtype_and_eval_mode(tiny_model):
    model = copy.deepcopy(tiny_model).eval()
    assert ModelSpec("tiny", "in-memory", "fingerprint", model=model).load(torch.float32, "cpu") is model


def test_a_job_in_another_dtype_never_casts_or_switches_the_callers_model(tiny_model):
    model = copy.deepcopy(tiny_model).train()
    loaded = ModelSpec("tiny", "in-memory", "fingerprint", model=model).load(torch.bfloat16, "cpu")
    assert loaded is not model and not loaded.training
    assert next(loaded.parameters()).dtype == torch.bfloat16
    assert model.training and next(model.parameters()).dtype == torch.float32
    torch.testing.assert_close(
        next(loaded.parameters()).float(), next(model.parameters()), atol=1e-2, rtol=1e-2
    )
