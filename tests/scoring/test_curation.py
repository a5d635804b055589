"""score_to_folder: every input column plus viclip_score, a threshold, resumable, readable by datasets."""

import json

import pytest

from viclip.inference import EngineSettings
from viclip.scoring import score_to_folder
from viclip.scoring.curation import ScoringMismatchError

LOCAL = EngineSettings(runner="local", batch_size=2)


@pytest.fixture
def clip_list(tmp_path, codec_videos):
    path = tmp_path / "clips.csv"
    rows = [
        f"{codec_videos['short']},,,a cat runs,7",
        f"{codec_videos['bframes']},0.1,1.5,a red car,8",
        f"{codec_videos['bframes']},0.1,1.5,a blue boat,9",
        f"{tmp_path / 'missing.mp4'},,,nothing,10",
    ]
    path.write_text("path,start_sec,end_sec,caption,row_id\n" + "\n".join(rows) + "\n")
    return path


def test_scored_rows_keep_their_columns_and_load_with_datasets(clip_list, vbench_model_dir, tmp_path):
    import datasets

    result = score_to_folder(clip_list, str(vbench_model_dir), tmp_path / "out", engine=LOCAL, progress=False)
    assert (result.num_rows, result.num_scored, len(result.failures)) == (4, 3, 1)
    table = datasets.load_dataset(str(tmp_path / "out"), split="train", cache_dir=str(tmp_path / "hf_cache"))
    assert sorted(table["row_id"]) == ["7", "8", "9"] and set(table.column_names) >= {
        "caption",
        "viclip_score",
    }
    failures = [json.loads(line) for line in (tmp_path / "out" / "failures.jsonl").read_text().splitlines()]
    assert failures[0]["path"].endswith("missing.mp4")


def test_min_score_keeps_rows_at_or_above_it_and_a_rerun_scores_nothing_again(
    clip_list, vbench_model_dir, tmp_path
):
    import datasets

    everything = score_to_folder(
        clip_list, str(vbench_model_dir), tmp_path / "all", engine=LOCAL, progress=False
    )
    threshold = sorted(everything.scores)[1]
    kept = score_to_folder(
        clip_list, str(vbench_model_dir), tmp_path / "kept", min_score=threshold, engine=LOCAL, progress=False
    )
    assert kept.num_kept == 2
    rows = datasets.load_dataset(str(tmp_path / "kept"), split="train")
    assert min(rows["viclip_score"]) >= threshold
    again = score_to_folder(
        clip_list, str(vbench_model_dir), tmp_path / "kept", min_score=threshold, engine=LOCAL, progress=False
    )
    assert (again.num_scored, again.num_reused) == (0, 3)
    assert datasets.load_dataset(str(tmp_path / "kept"), split="train").num_rows == 2
    with pytest.raises(ScoringMismatchError, match="min_score"):
        score_to_folder(clip_list, str(vbench_model_dir), tmp_path / "kept", min_score=0.9, engine=LOCAL)
