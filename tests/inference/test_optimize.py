import copy

import numpy as np
import pytest
import torch

from viclip.inference import ModelSpec, VideoEmbeddingWorker, WorkerSettings, engine, optimize_for_inference


def _pixels(count: int, seed: int) -> torch.Tensor:
    return torch.randn(count, 8, 3, 32, 32, generator=torch.Generator().manual_seed(seed))


def test_compiled_video_tower_gives_the_eager_embeddings_with_prepacked_weights(tiny_model):
    compiled = optimize_for_inference(copy.deepcopy(tiny_model), "compile")
    pixels = _pixels(2, seed=0)
    with torch.inference_mode():
        expected = tiny_model.get_video_features(pixel_values_videos=pixels).pooler_output
        actual = compiled.get_video_features(pixel_values_videos=pixels).pooler_output
        with torch.profiler.profile() as profile:
            compiled.get_video_features(pixel_values_videos=pixels)
    torch.testing.assert_close(actual, expected, atol=1e-5, rtol=1e-4)
    # Frozen weights: the tower's Linear layers run as MKL/oneDNN prepacked ops, none as a plain addmm.
    ops = {event.key for event in profile.key_averages()}
    assert "aten::addmm" not in ops and any(op.startswith(("mkl::", "mkldnn::")) for op in ops), sorted(ops)


def test_unknown_optimization_is_refused(tiny_model):
    assert optimize_for_inference(tiny_model, "none") is tiny_model
    with pytest.raises(ValueError, match="optimize must be one of"):
        optimize_for_inference(tiny_model, "tensorrt")


def test_worker_pads_a_short_batch_to_one_size_for_a_compiled_model(tiny_model, tiny_processor, monkeypatch):
    # Each new batch size would compile again: the worker pads short batches (bad rows left out) to batch_size.
    monkeypatch.setattr(engine, "optimize_for_inference", lambda model, optimize: model)
    seen = []
    model = copy.deepcopy(tiny_model)

    def record_batch_size(module, args, kwargs):
        seen.append(len(kwargs["pixel_values_videos"] if "pixel_values_videos" in kwargs else args[0]))

    model.vision_model.register_forward_pre_hook(record_batch_size, with_kwargs=True)
    spec = ModelSpec("tiny", "in-memory", "fingerprint", model=model)
    video_processor = tiny_processor.video_processor
    padded = VideoEmbeddingWorker(
        WorkerSettings(spec, video_processor, "float32", "cpu", optimize="compile", batch_size=4)
    )
    plain_spec = ModelSpec("tiny", "in-memory", "fingerprint", model=tiny_model)
    plain = VideoEmbeddingWorker(WorkerSettings(plain_spec, video_processor, "float32", "cpu"))
    batch = {
        "path": np.array(["a", "b", "c"]),
        "start_sec": np.full(3, np.nan),
        "end_sec": np.full(3, np.nan),
        "pixel_values_videos": np.random.default_rng(1).integers(0, 256, (3, 8, 3, 32, 32), dtype=np.uint8),
        "file_size": np.zeros(3, np.int64),
        "file_mtime_ns": np.zeros(3, np.int64),
        "error": np.array(["", "VideoDecodeError: broken", ""]),
    }
    out, reference = padded(batch), plain(batch)
    assert seen == [4]
    np.testing.assert_allclose(out["embedding"], reference["embedding"], atol=1e-6)
    assert not out["embedding"][1].any()  # the bad row stays empty (its error is reported)
