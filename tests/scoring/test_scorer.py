"""score_pairs: the cosine of ViCLIP's features, each clip embedded once, bad videos listed, both protocols."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from viclip import ViCLIPModel, ViCLIPProcessor
from viclip.inference import EngineSettings
from viclip.processing import VideoClip
from viclip.scoring import ScoringRow, score_pairs
from viclip.scoring.vbench import OPENAI_CLIP_MEAN, OPENAI_CLIP_STD, read_vbench_frames, vbench_resize_crop

LOCAL = EngineSettings(runner="local", batch_size=2)


def _expected_vbench_score(model_dir, path, prompt) -> float:
    """VBench's computation written out: frames, clip_transform, encode_vision, encode_text, raw cosine."""
    model = ViCLIPModel.from_pretrained(model_dir).eval()
    processor = ViCLIPProcessor.from_pretrained(model_dir)
    frames = vbench_resize_crop(torch.from_numpy(read_vbench_frames(path))).float().div(255.0)
    mean, std = torch.tensor(OPENAI_CLIP_MEAN)[:, None, None], torch.tensor(OPENAI_CLIP_STD)[:, None, None]
    pixels = ((frames - mean) / std)[None]
    with torch.no_grad():
        video = F.normalize(
            model.get_video_features(pixel_values_videos=pixels).pooler_output.float(), dim=-1
        )
        ids = processor(text=[prompt], return_tensors="pt")["input_ids"]
        text = F.normalize(model.get_text_features(input_ids=ids).pooler_output.float(), dim=-1)
    return float(video[0] @ text[0])


def test_vbench_protocol_score_is_vbenchs_computation(vbench_model_dir, codec_videos):
    rows = [
        ScoringRow(VideoClip(str(codec_videos["bframes"])), "a cat runs"),
        ScoringRow(VideoClip(str(codec_videos["webm"])), "a red car"),
    ]
    result = score_pairs(rows, str(vbench_model_dir), protocol="vbench", engine=LOCAL, progress=False)
    for row, score in zip(rows, result.scores):
        assert score == pytest.approx(
            _expected_vbench_score(vbench_model_dir, row.clip.path, row.text), abs=1e-5
        )
    assert result.protocol["mean"] == pytest.approx(list(OPENAI_CLIP_MEAN))


def test_viclip_protocol_score_is_the_embedders_cosine(vbench_model_dir, codec_videos):
    from viclip.inference import VideoTextEmbedder

    clip = VideoClip(str(codec_videos["bframes"]), 0.2, 1.5)
    rows = [ScoringRow(clip, "a cat runs"), ScoringRow(clip, "a red car")]
    result = score_pairs(rows, str(vbench_model_dir), engine=LOCAL, progress=False)
    embedder = VideoTextEmbedder.from_pretrained(vbench_model_dir, device="cpu")
    expected = embedder.encode_videos([clip]) @ embedder.encode_text(["a cat runs", "a red car"]).T
    np.testing.assert_allclose(result.scores, expected[0].numpy(), atol=1e-5)


def test_each_distinct_clip_is_decoded_once(vbench_model_dir, codec_videos, monkeypatch):
    from viclip.scoring import protocols

    seen = []
    original = protocols.decode_vbench

    def counting(batch, **kwargs):
        seen.extend(batch["path"])
        return original(batch, **kwargs)

    monkeypatch.setattr(protocols, "decode_vbench", counting)
    path = str(codec_videos["short"])
    rows = [ScoringRow(VideoClip(path), text) for text in ("one", "two", "three")]
    result = score_pairs(rows, str(vbench_model_dir), protocol="vbench", engine=LOCAL, progress=False)
    assert len(seen) == 1 and len(set(result.scores)) == 3


def test_a_bad_video_among_good_ones_is_listed_and_the_rest_scored(vbench_model_dir, codec_videos, tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42 not really" * 8)
    rows = [
        ScoringRow(VideoClip(str(codec_videos["short"])), "a"),
        ScoringRow(VideoClip(str(broken)), "b"),
        ScoringRow(VideoClip(str(tmp_path / "missing.mp4")), "c"),
    ]
    result = score_pairs(rows, str(vbench_model_dir), protocol="vbench", engine=LOCAL, progress=False)
    assert result.scores[0] is not None and result.scores[1:] == [None, None]
    assert sorted(f.path for f in result.failures) == sorted([str(broken), str(tmp_path / "missing.mp4")])
    assert result.summary().startswith("3 pairs: 1 scored, 2 failed")


def test_scores_through_local_ray_equal_in_process(vbench_model_dir, codec_videos, ray_local):
    rows = [ScoringRow(VideoClip(str(p)), "a cat") for p in (codec_videos["short"], codec_videos["bframes"])]
    local = score_pairs(rows, str(vbench_model_dir), protocol="vbench", engine=LOCAL, progress=False)
    ray = EngineSettings(runner="ray", batch_size=2)
    through_ray = score_pairs(rows, str(vbench_model_dir), protocol="vbench", engine=ray, progress=False)
    np.testing.assert_allclose(through_ray.scores, local.scores, atol=1e-6)
