import itertools
import json
import os
import signal
import time

import numpy as np
import pytest

import warm_python
from viclip.embedding import EmbeddingMismatchError, embed_videos, load_embeddings
from viclip.inference.store import CRASHED_REASON, embedding_matrix

GOOD_VIDEOS = ["blue.mp4", "long.mp4", "red.mp4", "sub/green.mp4"]
BAD_VIDEOS = ["broken.mp4", "empty.mp4"]


def _rows(output_dir):
    table, _ = load_embeddings(output_dir)
    return table.to_pydict(), embedding_matrix(table)


def _relative(paths, root):
    return [os.path.relpath(p, root) for p in paths]


def test_ray_embeddings_equal_the_in_process_embedder_and_bad_files_are_listed(
    ray_local, video_dir, tiny_model_dir, embedder, tmp_path
):
    result = embed_videos(
        video_dir, str(tiny_model_dir), tmp_path / "emb", engine="ray", batch_size=2, progress=False
    )
    assert (result.num_clips, result.num_embedded, result.num_reused) == (6, 4, 0)
    assert sorted(_relative([f.path for f in result.failures], video_dir)) == BAD_VIDEOS
    assert all("VideoDecodeError" in f.error for f in result.failures)
    listed = [json.loads(line) for line in (tmp_path / "emb" / "failures.jsonl").read_text().splitlines()]
    assert sorted(_relative([f["path"] for f in listed], video_dir)) == BAD_VIDEOS

    columns, vectors = _rows(tmp_path / "emb")
    order = np.argsort(columns["path"])
    paths = [columns["path"][i] for i in order]
    assert _relative(paths, video_dir) == GOOD_VIDEOS
    assert all(columns["start_sec"][i] is None and columns["end_sec"][i] is None for i in order)
    assert set(columns["model"]) == {str(tiny_model_dir)} and set(columns["model_revision"]) == {"local"}
    expected = embedder.encode_videos(paths).numpy()
    cosine = (vectors[order] * expected).sum(-1)
    assert cosine.min() >= 0.9999
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=-1), 1.0, atol=1e-5)
    assert result.model_seconds > 0 and 0 < result.model_busy_fraction <= 1


def test_result_reports_how_long_the_model_waited_for_decoded_clips(video_dir, tiny_model_dir, tmp_path):
    # In-process, the next batch is decoded between two model calls: that time is waiting for input.
    paths = [video_dir / name for name in ("red.mp4", "blue.mp4", "long.mp4")]
    result = embed_videos(
        paths, str(tiny_model_dir), tmp_path / "emb", batch_size=1, engine="local", progress=False
    )
    assert result.model_seconds > 0 and result.input_wait_seconds > 0
    busy = result.model_busy_fraction
    assert busy == pytest.approx(result.model_seconds / (result.model_seconds + result.input_wait_seconds))
    assert (
        f"the model ran {busy:.0%} of the time and waited {1 - busy:.0%} for decoded clips"
        in result.summary()
    )

    again = embed_videos(paths, str(tiny_model_dir), tmp_path / "emb", engine="local", progress=False)
    assert again.num_embedded == 0 and again.model_busy_fraction is None
    assert "the model ran" not in again.summary()


def test_decoding_hands_over_uint8_frames_that_normalise_to_the_processor_output(video_dir, tiny_processor):
    import torch

    from viclip.inference.engine import decode_clips

    video_processor = tiny_processor.video_processor
    paths = [str(video_dir / "long.mp4"), str(video_dir / "broken.mp4")]
    decoded = decode_clips(
        {"path": np.array(paths), "start_sec": np.array([1.0, np.nan]), "end_sec": np.array([5.0, np.nan])},
        video_processor,
    )
    frames = decoded["pixel_values_videos"]
    assert frames.dtype == np.uint8 and frames.shape == (2, 8, 3, 32, 32)
    assert decoded["error"][0] == "" and "VideoDecodeError" in decoded["error"][1] and not frames[1].any()
    expected = video_processor(videos=[(paths[0], 1.0, 5.0)], return_tensors="pt")["pixel_values_videos"][0]
    normalised = video_processor.rescale_and_normalize(
        torch.from_numpy(frames[0]),
        video_processor.do_rescale,
        video_processor.rescale_factor,
        video_processor.do_normalize,
        video_processor.image_mean,
        video_processor.image_std,
    )
    assert torch.equal(normalised, expected)


def test_a_processor_that_gives_float_frames_before_normalisation_is_refused():
    import torch

    from viclip.inference.engine import uint8_frames

    with pytest.raises(TypeError, match=r"gave torch\.float32 frames before normalisation, not uint8"):
        uint8_frames(torch.zeros(8, 3, 4, 4))


def test_embedding_folder_loads_with_datasets(video_dir, tiny_model_dir, tmp_path):
    import datasets

    embed_videos(video_dir, str(tiny_model_dir), tmp_path / "emb", engine="local", progress=False)
    ds = datasets.load_dataset(str(tmp_path / "emb"), split="train")
    assert ds.num_rows == 4 and len(ds[0]["embedding"]) == 32
    assert {"path", "start_sec", "end_sec", "embedding", "model", "model_revision"} <= set(ds.column_names)


def test_windows_cover_each_video_with_overlap(video_dir, tiny_model_dir, tmp_path):
    result = embed_videos(
        video_dir,
        str(tiny_model_dir),
        tmp_path / "emb",
        window_sec=1.0,
        stride_sec=0.5,
        engine="local",
        progress=False,
    )
    columns, _ = _rows(tmp_path / "emb")
    by_video = {}
    for path, start, end in zip(columns["path"], columns["start_sec"], columns["end_sec"]):
        by_video.setdefault(os.path.relpath(path, video_dir), []).append((start, end))
    durations = {"blue.mp4": 2.0, "red.mp4": 2.0, "sub/green.mp4": 2.0, "long.mp4": 6.0}
    assert sorted(by_video) == sorted(durations)
    for name, windows in by_video.items():
        windows.sort()
        assert windows[0][0] == 0.0 and windows[-1][1] == pytest.approx(durations[name], abs=1e-3)
        assert all(end - start == pytest.approx(1.0) for start, end in windows)
        assert all(b[0] < a[1] for a, b in itertools.pairwise(windows))  # overlapping: no gap anywhere
    assert len(by_video["long.mp4"]) == 11 and result.num_embedded == 11 + 3 * 3
    assert sorted(_relative([f.path for f in result.failures], video_dir)) == BAD_VIDEOS


def test_rerun_embeds_only_missing_and_changed_files(video_dir, tiny_model_dir, tmp_path):
    folder = tmp_path / "videos"
    folder.mkdir()
    for name in ("red.mp4", "blue.mp4"):
        (folder / name).write_bytes((video_dir / name).read_bytes())
    first = embed_videos(folder, str(tiny_model_dir), tmp_path / "emb", engine="local", progress=False)
    assert (first.num_embedded, first.num_reused) == (2, 0)
    (folder / "long.mp4").write_bytes((video_dir / "long.mp4").read_bytes())
    second = embed_videos(folder, str(tiny_model_dir), tmp_path / "emb", engine="local", progress=False)
    assert (second.num_embedded, second.num_reused) == (1, 2)
    (folder / "red.mp4").write_bytes((video_dir / "sub" / "green.mp4").read_bytes())
    third = embed_videos(folder, str(tiny_model_dir), tmp_path / "emb", engine="local", progress=False)
    assert (third.num_embedded, third.num_reused) == (1, 2)
    columns, _ = _rows(tmp_path / "emb")
    assert sorted(os.path.basename(p) for p in columns["path"]) == ["blue.mp4", "long.mp4", "red.mp4"]


def test_other_model_or_window_is_refused(video_dir, tiny_model_dir, tmp_path):
    embed_videos(
        [video_dir / "red.mp4"], str(tiny_model_dir), tmp_path / "emb", engine="local", progress=False
    )
    with pytest.raises(EmbeddingMismatchError, match="window_sec"):
        embed_videos(
            [video_dir / "red.mp4"],
            str(tiny_model_dir),
            tmp_path / "emb",
            window_sec=1.0,
            engine="local",
            progress=False,
        )


KILLED_RUN = """
import sys
from viclip.embedding import embed_videos
embed_videos(sys.argv[1], sys.argv[2], sys.argv[3], window_sec=0.5, stride_sec=0.25, engine=sys.argv[4],
             batch_size=1, rows_per_part=1, progress=False)
"""


@pytest.mark.parametrize("runner", ["local", "ray"])
def test_kill_9_then_rerun_completes_without_duplicates(runner, request, video_dir, tiny_model_dir, tmp_path):
    if runner == "ray":
        request.getfixturevalue("ray_local")  # the rerun, in this process; the killed run starts its own Ray
    long_video = video_dir / "long.mp4"
    output = tmp_path / "emb"
    process = warm_python.WarmProcess(
        ["-c", KILLED_RUN, str(long_video), str(tiny_model_dir), str(output), runner]
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list((output / "data").glob("part-*.parquet"))) < 3:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    parts_at_kill = len(list((output / "data").glob("part-*.parquet")))
    assert 3 <= parts_at_kill < 23, "the run must be killed midway"

    result = embed_videos(
        long_video,
        str(tiny_model_dir),
        output,
        window_sec=0.5,
        stride_sec=0.25,
        engine=runner,
        progress=False,
    )
    # A run killed while decoding cannot tell a kill from a crash in FFmpeg: the in-process engine's rerun lists the
    # clip it was decoding (see test_poison_file.py) and does every other.
    crashed = [f for f in result.failures if f.error == CRASHED_REASON]
    assert len(result.failures) == len(crashed) <= (1 if runner == "local" else 0)
    assert result.num_reused >= parts_at_kill
    assert result.num_reused + result.num_embedded + len(crashed) == 23
    columns, _ = _rows(output)
    keys = list(zip(columns["path"], columns["start_sec"], columns["end_sec"]))
    assert len(keys) == len(set(keys)) == 23 - len(crashed)
    assert not [p for p in output.rglob("*") if p.name.endswith(".tmp")]


def test_clip_list_and_internvid_rows(video_dir, tiny_model_dir, tmp_path):
    clip_list = tmp_path / "clips.csv"
    clip_list.write_text(f"path,start,end\n{video_dir / 'long.mp4'},3,4\nred.mp4,,\n")
    result = embed_videos(
        clip_list, str(tiny_model_dir), tmp_path / "a", video_root=video_dir, engine="local", progress=False
    )
    columns, _ = _rows(tmp_path / "a")
    assert sorted(zip(columns["path"], columns["start_sec"], columns["end_sec"]), key=str) == sorted(
        [(str(video_dir / "long.mp4"), 3.0, 4.0), (str(video_dir / "red.mp4"), None, None)], key=str
    )
    assert result.failures == []

    rows = tmp_path / "rows.jsonl"
    rows.write_text(
        json.dumps(
            {
                "YoutubeID": "long",
                "Start_timestamp": "00:00:01.000",
                "End_timestamp": "00:00:02.500",
                "Caption": "x",
            }
        )
        + "\n"
        + json.dumps(
            {
                "YoutubeID": "absent00000",
                "Start_timestamp": "00:00:01.000",
                "End_timestamp": "00:00:02.000",
                "Caption": "y",
            }
        )
        + "\n"
    )
    result = embed_videos(
        rows, str(tiny_model_dir), tmp_path / "b", video_root=video_dir, engine="local", progress=False
    )
    columns, _ = _rows(tmp_path / "b")
    assert list(zip(columns["path"], columns["start_sec"], columns["end_sec"])) == [
        (str(video_dir / "long.mp4"), 1.0, 2.5)
    ]
    assert len(result.failures) == 1 and "absent00000" in result.failures[0].error


def test_a_folder_of_shards_that_is_not_prepared_is_refused(tiny_model_dir, tmp_path):
    (tmp_path / "shards").mkdir()
    (tmp_path / "shards" / "shard-00000.tar").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="not a prepared folder"):
        embed_videos(tmp_path / "shards", str(tiny_model_dir), tmp_path / "emb", engine="local")


def test_in_memory_model_needs_its_processor(video_dir, tmp_path):
    with pytest.raises(ValueError, match="processor"):
        embed_videos([video_dir / "red.mp4"], object(), tmp_path / "emb", engine="local")


def test_prepared_shards_embed_like_their_source_clips(
    ray_local, video_dir, tiny_model_dir, embedder, tmp_path
):
    from viclip.data.prepare import prepare_internvid

    rows = tmp_path / "rows.jsonl"
    rows.write_text(
        "".join(
            json.dumps({"YoutubeID": vid, "Start_timestamp": start, "End_timestamp": end, "Caption": "x"})
            + "\n"
            for vid, start, end in [
                ("long", "00:00:01.000", "00:00:03.000"),
                ("red", "00:00:00.000", "00:00:01.500"),
            ]
        )
    )
    prepare_internvid(tmp_path / "prepared", video_root=video_dir, data_files=rows, progress=False)
    result = embed_videos(
        tmp_path / "prepared",
        str(tiny_model_dir),
        tmp_path / "emb",
        engine="ray",
        batch_size=2,
        progress=False,
    )
    assert (result.num_clips, result.num_embedded, result.failures) == (2, 2, [])
    again = embed_videos(
        tmp_path / "prepared", str(tiny_model_dir), tmp_path / "emb", engine="local", progress=False
    )
    assert (again.num_embedded, again.num_reused) == (0, 2)

    columns, vectors = _rows(tmp_path / "emb")
    clips = list(zip(columns["path"], columns["start_sec"], columns["end_sec"]))
    assert sorted(clips) == [
        ("long.mp4", 1.0, 3.0),
        ("red.mp4", 0.0, 1.5),
    ]  # source_video, as the shards name it
    # The same clips embedded from the source videos (the preparation's short-side resize is the only difference).
    sources = [(str(video_dir / path), start, end) for path, start, end in clips]
    cosine = (vectors * embedder.encode_videos(sources).numpy()).sum(-1)
    assert cosine.min() > 0.98
