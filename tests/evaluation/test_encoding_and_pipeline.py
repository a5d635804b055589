import numpy as np
import pytest
import torch
from transformers import pipeline

from viclip import VideoDecodeError, read_video_clip
from viclip.evaluation.templates import ACTIONCLIP_TEMPLATES
from viclip.inference import VideoTextEmbedder
from viclip.processing import VideoClip

LABELS = ["red", "green", "blue"]


@pytest.fixture(scope="module")
def pipe(tiny_model, tiny_processor):
    return pipeline("zero-shot-video-classification", model=tiny_model, processor=tiny_processor)


@pytest.fixture(scope="module")
def encoder(tiny_model, tiny_processor):
    return VideoTextEmbedder(tiny_model, tiny_processor)


def test_pipeline_scores_equal_template_averaged_cosine(pipe, encoder, video_dir):
    path = str(video_dir / "red.mp4")
    out = pipe(path, candidate_labels=LABELS)
    assert sorted(r["label"] for r in out) == sorted(LABELS)
    assert out == sorted(out, key=lambda r: -r["score"])
    assert sum(r["score"] for r in out) == pytest.approx(1.0)
    # hand computation: mean over the 16 templates of cos(video, text)
    video = encoder.encode_videos([VideoClip(path)])[0]
    for result in out:
        texts = encoder.encode_text([t.format(result["label"]) for t in ACTIONCLIP_TEMPLATES])
        assert result["similarity"] == pytest.approx(float((texts @ video).mean()), abs=1e-5)
    logits = torch.tensor([r["similarity"] for r in out]) * encoder.logit_scale
    assert [r["score"] for r in out] == pytest.approx(logits.softmax(-1).tolist(), abs=1e-6)


def test_pipeline_batched_equals_one_by_one(pipe, video_dir):
    videos = [str(video_dir / f"{c}.mp4") for c in LABELS]
    batched = pipe(videos, candidate_labels=LABELS, batch_size=2, templates="single")
    single = [pipe(v, candidate_labels=LABELS, templates="single") for v in videos]
    for b, s in zip(batched, single):
        assert [r["label"] for r in b] == [r["label"] for r in s]
        assert [r["score"] for r in b] == pytest.approx([r["score"] for r in s], abs=1e-5)


@pytest.mark.parametrize(
    "spelling",
    ["dict", "tuple", "VideoClip"],
)
def test_pipeline_reads_the_clip_times_in_every_spelling(pipe, example_video, spelling):
    # Regression: the pipeline read only "start"/"end" and ignored "start_sec"/"end_sec" (the whole video
    # was used, silently). One spelling everywhere: start_sec/end_sec.
    path = str(example_video)
    clip = {
        "dict": {"path": path, "start_sec": 1.0, "end_sec": 3.0},
        "tuple": (path, 1.0, 3.0),
        "VideoClip": VideoClip(path, 1.0, 3.0),
    }[spelling]
    by_clip = pipe(clip, candidate_labels=LABELS)
    frames, _ = read_video_clip(path, 1.0, 3.0, num_frames=8)
    by_frames = pipe(frames, candidate_labels=LABELS)
    assert [r["label"] for r in by_clip] == [r["label"] for r in by_frames]
    assert [r["score"] for r in by_clip] == pytest.approx([r["score"] for r in by_frames], abs=1e-5)
    whole = pipe(path, candidate_labels=LABELS)
    assert [r["similarity"] for r in whole] != pytest.approx([r["similarity"] for r in by_clip], abs=1e-6)


def test_pipeline_rejects_a_clip_dict_with_an_unknown_key(pipe, example_video):
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['end', 'start'\].*start_sec/end_sec"):
        pipe({"path": str(example_video), "start": 1.0, "end": 3.0}, candidate_labels=LABELS)


def test_pipeline_on_real_video_uses_the_whole_file(pipe, example_video):
    out = pipe(str(example_video), candidate_labels=["a dog in the snow", "a cooking show"], templates="{}")
    assert {r["label"] for r in out} == {"a dog in the snow", "a cooking show"}


def test_pipeline_loads_from_a_saved_folder(tiny_model_dir, pipe, video_dir):
    from_folder = pipeline("zero-shot-video-classification", model=str(tiny_model_dir))
    path = str(video_dir / "green.mp4")
    expected = pipe(path, candidate_labels=LABELS)
    got = from_folder(path, candidate_labels=LABELS)
    assert [r["score"] for r in got] == pytest.approx([r["score"] for r in expected], abs=1e-5)


def test_pipeline_on_converted_tiny_fixture(
    converted_tiny_fixture, tiny_vocab_processor, video_dir, example_video
):
    processor = tiny_vocab_processor
    pipe = pipeline("zero-shot-video-classification", model=converted_tiny_fixture, processor=processor)
    results = pipe([str(video_dir / "blue.mp4"), str(example_video)], candidate_labels=LABELS, batch_size=2)
    assert len(results) == 2 and all(len(r) == 3 for r in results)
    # the pipeline's similarity is the original model's: the fixture's own embeddings, template-averaged
    encoder = VideoTextEmbedder(converted_tiny_fixture, processor)
    video = encoder.encode_videos([VideoClip(str(video_dir / "blue.mp4"))])[0]
    texts = encoder.encode_text([t.format("blue") for t in ACTIONCLIP_TEMPLATES])
    blue = next(r for r in results[0] if r["label"] == "blue")
    assert blue["similarity"] == pytest.approx(float((texts @ video).mean()), abs=1e-5)


def test_converted_fixture_with_clip_tokenizer_gives_a_clear_error(converted_tiny_fixture, tiny_processor):
    encoder = VideoTextEmbedder(converted_tiny_fixture, tiny_processor)
    with pytest.raises(ValueError, match="vocabulary has 1000 tokens"):
        encoder.encode_text(["a dog"])


@pytest.mark.parametrize("labels", [[], None, "red"])
def test_pipeline_rejects_empty_or_missing_labels(pipe, video_dir, labels):
    with pytest.raises(ValueError, match="candidate_labels must be a non-empty list"):
        pipe(str(video_dir / "red.mp4"), candidate_labels=labels)


def test_pipeline_bad_path_and_unreadable_video(pipe, tmp_path, broken_video):
    with pytest.raises(VideoDecodeError, match="file not found"):
        pipe(str(tmp_path / "missing.mp4"), candidate_labels=LABELS)
    with pytest.raises(VideoDecodeError, match=r"broken\.mp4"):
        pipe(str(broken_video), candidate_labels=LABELS)


def test_pipeline_rejects_non_video_input(pipe):
    with pytest.raises(ValueError, match=r"frames as a \(T, H, W, 3\) array"):
        pipe(np.zeros((4, 4)), candidate_labels=LABELS)
