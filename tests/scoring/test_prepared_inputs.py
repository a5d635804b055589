"""Prepared shards (`viclip prepare`) as scoring inputs: the shard frames, the caption as the text, the row kept."""

import json
import shutil

import numpy as np
import pytest

from viclip.inference import EngineSettings
from viclip.scoring import Scorer, read_scoring_inputs, score_pairs, score_to_folder

LOCAL = EngineSettings(runner="local", batch_size=2)


@pytest.fixture
def prepared(tmp_path, codec_videos):
    from viclip.data.prepare import prepare_internvid

    root = tmp_path / "videos"
    root.mkdir()
    shutil.copy(codec_videos["bframes"], root / "vidA.mp4")
    shutil.copy(codec_videos["no_bframes"], root / "vidB.mp4")
    rows = tmp_path / "rows.jsonl"
    entries = [
        ("vidA", "00:00:00.100", "00:00:01.500", "a red car"),
        ("vidB", "00:00:00.000", "00:00:01.000", "a blue boat"),
        ("vidA", "00:00:00.500", "00:00:02.000", "a cat runs"),
    ]
    rows.write_text(
        "".join(
            json.dumps({"YoutubeID": v, "Start_timestamp": s, "End_timestamp": e, "Caption": c}) + "\n"
            for v, s, e, c in entries
        )
    )
    prepare_internvid(tmp_path / "prepared", video_root=root, data_files=rows, progress=False)
    return tmp_path / "prepared"


def test_prepared_rows_score_as_the_cosine_of_their_shard_embedding_and_caption(
    prepared, vbench_model_dir, tmp_path
):
    from viclip.embedding import embed_videos, load_embeddings

    read = read_scoring_inputs(prepared)
    assert read.prepared_files and sorted(r.text for r in read.rows) == [
        "a blue boat",
        "a cat runs",
        "a red car",
    ]
    result = score_pairs(
        read.rows, str(vbench_model_dir), engine=LOCAL, progress=False, prepared_files=read.prepared_files
    )
    assert result.failures == [] and all(s is not None for s in result.scores)

    embed_videos(prepared, str(vbench_model_dir), tmp_path / "emb", engine="local", progress=False)
    table, _ = load_embeddings(tmp_path / "emb")
    embedded = {
        (path, start): np.asarray(vector)
        for path, start, vector in zip(
            table.column("path").to_pylist(),
            table.column("start_sec").to_pylist(),
            table.column("embedding").to_pylist(),
        )
    }
    texts = Scorer(str(vbench_model_dir), engine=LOCAL).text_features([r.text for r in read.rows])
    for row, text, score in zip(read.rows, texts, result.scores):
        vector = next(
            v
            for (path, start), v in embedded.items()
            if path.endswith(row.clip.path) and start == row.clip.start_sec
        )
        assert score == pytest.approx(float(vector @ text), abs=1e-5)


def test_curating_a_prepared_folder_keeps_each_rows_columns_without_its_frames(
    prepared, vbench_model_dir, tmp_path
):
    import datasets

    result = score_to_folder(
        prepared, str(vbench_model_dir), tmp_path / "scored", engine=LOCAL, progress=False
    )
    assert (result.num_rows, result.num_scored, result.failures) == (3, 3, [])
    table = datasets.load_dataset(str(tmp_path / "scored"), split="train")
    assert {"caption", "source_video", "viclip_score"} <= set(table.column_names)
    assert not {"frames", "frame_order"} & set(table.column_names)


def test_prepared_shards_are_refused_for_the_vbench_protocol(prepared, vbench_model_dir):
    read = read_scoring_inputs(prepared)
    with pytest.raises(ValueError, match="--protocol vbench reads the videos"):
        score_pairs(
            read.rows,
            str(vbench_model_dir),
            protocol="vbench",
            engine=LOCAL,
            progress=False,
            prepared_files=read.prepared_files,
        )
