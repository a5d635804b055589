"""viclip_percentile: the share of reference captions a clip's caption beats, next to the raw cosine."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from viclip.inference import EngineSettings
from viclip.processing import VideoClip
from viclip.scoring import ReferenceSet, Scorer, ScoringRow, percentile_ranks, score_pairs, score_to_folder
from viclip.scoring.curation import ScoringMismatchError
from viclip.scoring.reference import (
    DEFAULT_REFERENCE_VERSION,
    ReferenceCaptionsError,
    default_reference,
    read_reference_captions,
    self_reference,
)
from viclip_cli import main

LOCAL = EngineSettings(runner="local", batch_size=2)
WORDS = ["a cat runs", "a red car", "a blue boat", "a dog swims", "people dance", "a man cooks", "rain falls"]
CAPTIONS = [*WORDS, "a bird flies", "a child laughs", "waves crash", "a train passes", "snow melts"]


@pytest.fixture(scope="session")
def caption_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("reference") / "captions.txt"
    path.write_text("\n".join(CAPTIONS) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def scorer(vbench_model_dir, caption_file) -> Scorer:
    return Scorer(str(vbench_model_dir), engine=LOCAL, reference=str(caption_file))


@pytest.fixture
def clip_list(tmp_path, codec_videos) -> Path:
    path = tmp_path / "clips.csv"
    rows = [f"{codec_videos['short']},,,{text}" for text in WORDS[:4]]
    rows += [f"{codec_videos['no_bframes']},0,1,{text}" for text in WORDS[4:]]
    path.write_text("path,start_sec,end_sec,caption\n" + "\n".join(rows) + "\n")
    return path


def test_percentile_counts_lower_references_and_half_the_ties_and_ignores_nan():
    references = np.array([[0.1, 0.2, 0.3, 0.4], [0.1, 0.2, np.nan, 0.4]])
    ranks = percentile_ranks(np.array([0.3, 0.3]), references)
    assert ranks.tolist() == [(2 + 0.5) / 4, 2 / 3]
    assert percentile_ranks(np.array([-1.0, 1.0]), references[:1].repeat(2, 0)).tolist() == [0.0, 1.0]


def test_percentiles_lie_in_0_1_and_follow_the_raw_score_for_one_clip(scorer, codec_videos):
    rows = [ScoringRow(VideoClip(str(codec_videos["short"])), text) for text in CAPTIONS]
    result = score_pairs(rows, scorer, progress=False)
    scores, percentiles = np.array(result.scores), np.array(result.percentiles)
    assert ((percentiles >= 0) & (percentiles <= 1)).all()
    order = np.argsort(scores)
    assert (np.diff(percentiles[order]) >= 0).all()
    assert result.reference["reference_size"] == len(CAPTIONS)


def test_a_caption_identical_to_a_reference_caption_counts_that_one_as_half(
    scorer, codec_videos, caption_file
):
    rows = [ScoringRow(VideoClip(str(codec_videos["short"])), text) for text in CAPTIONS]
    result = score_pairs(rows, scorer, progress=False)
    scores = np.array(result.scores)
    # Every caption is in the reference set: it ties with itself only, so its percentile is (rank + 0.5) / 12.
    ranks = np.argsort(np.argsort(scores))
    assert np.allclose(result.percentiles, (ranks + 0.5) / len(CAPTIONS))
    assert max(result.percentiles) == pytest.approx(1 - 0.5 / len(CAPTIONS))


def test_a_csv_reference_reads_its_caption_column(tmp_path):
    path = tmp_path / "list.csv"
    path.write_text("path,caption\n" + "".join(f"v{i}.mp4,{text}\n" for i, text in enumerate(CAPTIONS)))
    reference = read_reference_captions(path)
    assert reference.captions == tuple(CAPTIONS) and reference.size == len(CAPTIONS)


def test_self_reference_ranks_each_row_against_n_other_captions_seeded():
    texts = [f"caption {i}" for i in range(30)]
    reference = self_reference(texts, size=10, seed=3)
    assert len(reference.captions) == 11 and reference == self_reference(texts, size=10, seed=3)
    assert reference.sha256 != self_reference(texts, size=10, seed=4).sha256
    own = reference.captions[0]
    cosines = np.linspace(0, 1, 11)[
        None
    ]  # the pool's cosines with the clip; the row's own caption is index 0
    # The row's own caption (cosine 0) is dropped: 10 others, all above 0.05.
    assert reference.percentiles(np.array([0.05]), cosines, [own]).tolist() == [0.0]
    # A row whose caption is not in the pool drops the spare (the last, cosine 1): 0.95 beats the other 10.
    assert reference.percentiles(np.array([0.95]), cosines, ["elsewhere"]).tolist() == [1.0]


def test_self_reference_scores_a_list_with_n_others_per_row(vbench_model_dir, codec_videos):
    rows = [ScoringRow(VideoClip(str(codec_videos["short"])), text) for text in CAPTIONS]
    result = score_pairs(
        rows, str(vbench_model_dir), engine=LOCAL, progress=False, reference="self", reference_size=10
    )
    assert result.reference["reference"] == "self (seed 0)" and result.reference["reference_size"] == 10
    assert all(p is not None and 0 <= p <= 1 for p in result.percentiles)
    # Each row is ranked against 10 of the 11 others: multiples of 1/10 (no tie with its own caption).
    assert np.allclose(np.array(result.percentiles) * 10, np.round(np.array(result.percentiles) * 10))


def test_the_reference_features_are_cached_per_model_and_reused(
    vbench_model_dir, tiny_model_dir, caption_file, reference_cache_dir, monkeypatch
):
    reference = read_reference_captions(caption_file)
    first = Scorer(str(vbench_model_dir), engine=LOCAL, reference=reference)
    features = first.reference_features(reference)
    key = reference.sha256[:24]
    assert (reference_cache_dir / f"{first.spec.fingerprint}-{key}.safetensors").is_file()
    import viclip.scoring.scorer as scorer_module

    def refuse(*args, **kwargs):
        raise AssertionError("the cached features should be read, not encoded again")

    monkeypatch.setattr(scorer_module, "text_features", refuse)
    again = Scorer(str(vbench_model_dir), engine=LOCAL, reference=reference).reference_features(reference)
    assert np.array_equal(features, again)
    monkeypatch.undo()
    other = Scorer(str(tiny_model_dir), engine=LOCAL, reference=reference)
    assert other.spec.fingerprint != first.spec.fingerprint
    assert other.reference_features(reference).shape[0] == len(CAPTIONS)
    assert (reference_cache_dir / f"{other.spec.fingerprint}-{key}.safetensors").is_file()


def test_the_packaged_default_is_what_the_script_writes_and_has_1000_captions():
    script = Path(__file__).resolve().parents[2] / "scripts" / "make_reference_captions.py"
    spec = importlib.util.spec_from_file_location("make_reference_captions", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    reference = default_reference()
    assert list(reference.captions) == module.compose_reference_captions()
    assert reference.size == 1000 and len(set(reference.captions)) == 1000
    assert reference.version == DEFAULT_REFERENCE_VERSION


def test_curation_writes_percentiles_and_the_reference_set_and_min_percentile_keeps_the_top(
    clip_list, vbench_model_dir, caption_file, tmp_path
):
    import datasets

    out = tmp_path / "out"
    argv = [
        "score",
        "--inputs",
        str(clip_list),
        "--model",
        str(vbench_model_dir),
        "--engine",
        "local",
        "--quiet",
    ]
    argv += ["--reference-captions", str(caption_file), "--output-dir", str(out), "--min-percentile", "0.5"]
    assert main([*argv, "--plot", str(tmp_path / "scores.png")]) == 0
    table = datasets.load_dataset(str(out), split="train")
    assert {"viclip_score", "viclip_percentile", "caption"} <= set(table.column_names)
    assert table.num_rows >= 1 and min(table["viclip_percentile"]) >= 0.5
    info = json.loads((out / "scoring_info.json").read_text())
    assert info["min_percentile"] == 0.5 and info["reference"] == str(caption_file)
    assert info["reference_sha256"] == read_reference_captions(caption_file).sha256 and info["fingerprint"]
    assert (tmp_path / "scores.png").stat().st_size > 0


def test_a_resumed_run_keeps_its_reference_set_and_refuses_another(
    clip_list, vbench_model_dir, caption_file, tmp_path, capsys
):
    out = tmp_path / "out"
    first = score_to_folder(
        clip_list, str(vbench_model_dir), out, engine=LOCAL, progress=False, reference=str(caption_file)
    )
    assert first.num_scored == len(WORDS) and len(first.percentiles) == len(WORDS)
    again = score_to_folder(
        clip_list, str(vbench_model_dir), out, engine=LOCAL, progress=False, reference=str(caption_file)
    )
    assert (again.num_scored, again.num_reused) == (0, len(WORDS))
    with pytest.raises(ScoringMismatchError, match="reference_sha256"):
        score_to_folder(clip_list, str(vbench_model_dir), out, engine=LOCAL, progress=False)
    argv = ["score", "--inputs", str(clip_list), "--model", str(vbench_model_dir), "--engine", "local"]
    assert main([*argv, "--quiet", "--output-dir", str(out)]) == 2
    assert "reference" in capsys.readouterr().err


@pytest.mark.parametrize(
    "content, problem",
    [(b"", "empty file"), (b"\xff\xfe caption\n" * 12, "not UTF-8"), (b"one\ntwo\nthree\n", "3 distinct")],
    ids=["empty", "not-utf8", "too-few"],
)
def test_a_bad_reference_file_exits_2_naming_it_and_writes_nothing(
    content, problem, clip_list, vbench_model_dir, tmp_path, capsys
):
    bad = tmp_path / "reference.txt"
    bad.write_bytes(content)
    out = tmp_path / "out"
    argv = [
        "score",
        "--inputs",
        str(clip_list),
        "--model",
        str(vbench_model_dir),
        "--engine",
        "local",
        "--quiet",
    ]
    assert main([*argv, "--reference-captions", str(bad), "--output-dir", str(out)]) == 2
    error = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(error) == 1 and str(bad) in error[0] and problem in error[0]
    assert not out.exists() or not any(out.iterdir())
    with pytest.raises(ReferenceCaptionsError):
        read_reference_captions(bad)


def test_vbench_refuses_the_percentile_flags_with_a_reason(vbench_model_dir, prompt_videos, capsys):
    argv = [
        "score",
        "--protocol",
        "vbench",
        "--videos-path",
        str(prompt_videos),
        "--model",
        str(vbench_model_dir),
    ]
    assert main([*argv, "--reference-captions", "self"]) == 2
    assert "raw cosine" in capsys.readouterr().err


def test_a_scorer_without_a_reference_gives_no_percentiles(vbench_model_dir, codec_videos):
    rows = [ScoringRow(VideoClip(str(codec_videos["short"])), "a cat runs")]
    result = score_pairs(rows, str(vbench_model_dir), engine=LOCAL, progress=False, reference=None)
    assert result.percentiles == [None] and result.reference == {} and result.scores[0] is not None


def test_a_reference_sets_hash_is_its_captions_not_its_name():
    reference = ReferenceSet("x", tuple(CAPTIONS), "v", len(CAPTIONS))
    assert reference.describe()["reference_sha256"] == ReferenceSet("y", tuple(CAPTIONS), "w", 12).sha256
