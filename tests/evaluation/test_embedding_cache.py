"""The evaluation's embedding cache: an embedding folder (viclip embed's format) that follows file changes and
belongs to one model."""

import json
import os

import datasets
import pyarrow.parquet as pq
import pytest
import torch

from viclip.data.video_list import list_videos
from viclip.evaluation.embedding_cache import EmbeddingCache
from viclip.inference.store import FORMAT, EmbeddingMismatchError, clip_key, embedding_matrix, load_embeddings
from viclip.processing import VideoClip


class CountingEmbedder:
    """Stands in for the model: embeds a video as its file size, records what it decoded."""

    def __init__(self, fail_on: str | None = None):
        self.calls: list[str] = []
        self.fail_on = fail_on

    def __call__(self, items):
        for item in items:
            if self.fail_on and item.path.endswith(self.fail_on):
                raise RuntimeError(f"cannot decode {item.path}")
        self.calls.extend(os.path.basename(item.path) for item in items)
        return torch.tensor([[float(os.path.getsize(item.path)), 1.0] for item in items])


def _copy_videos(src, dst):
    dst.mkdir()
    for path in sorted(src.glob("*.mp4")):
        (dst / path.name).write_bytes(path.read_bytes())
    return list_videos(dst)


def test_second_run_reuses_the_cache_without_decoding(video_dir, tmp_path):
    items = list_videos(video_dir)
    assert [os.path.basename(i.path) for i in items] == ["blue.mp4", "green.mp4", "red.mp4"]
    embed = CountingEmbedder()
    first = EmbeddingCache(tmp_path / "cache", "model-a").embed(items, embed, batch_size=2)
    assert embed.calls == ["blue.mp4", "green.mp4", "red.mp4"]
    assert (first.num_computed, first.num_reused) == (3, 0)

    embed2 = CountingEmbedder()
    second = EmbeddingCache(tmp_path / "cache", "model-a").embed(items, embed2)
    assert embed2.calls == []
    assert (second.num_computed, second.num_reused) == (0, 3)
    torch.testing.assert_close(second.embeddings, first.embeddings)
    assert second.embeddings[:, 0].tolist() == [float(os.path.getsize(i.path)) for i in items]


def test_changed_file_is_recomputed_and_others_reused(video_dir, tmp_path):
    items = _copy_videos(video_dir, tmp_path / "v")
    cache = EmbeddingCache(tmp_path / "cache", "model-a")
    cache.embed(items, CountingEmbedder())
    green = tmp_path / "v" / "green.mp4"
    green.write_bytes(green.read_bytes() + b"\x00" * 10)  # new size and mtime
    embed = CountingEmbedder()
    result = cache.embed(items, embed)
    assert embed.calls == ["green.mp4"]
    assert result.embeddings[1, 0].item() == float(green.stat().st_size)


def test_same_size_touched_file_is_recomputed(video_dir, tmp_path):
    items = _copy_videos(video_dir, tmp_path / "v")
    cache = EmbeddingCache(tmp_path / "cache", "model-a")
    cache.embed(items, CountingEmbedder())
    stat = os.stat(items[0].path)
    os.utime(items[0].path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    embed = CountingEmbedder()
    cache.embed(items, embed)
    assert embed.calls == ["blue.mp4"]


def test_another_models_folder_is_refused_and_left_as_it_is(video_dir, tmp_path):
    """The folder may be viclip embed's: another model's embeddings are neither mixed in nor overwritten."""
    items = list_videos(video_dir)
    EmbeddingCache(tmp_path / "cache", "model-a").embed(items, CountingEmbedder())
    parts = sorted((tmp_path / "cache" / "data").iterdir())
    embed = CountingEmbedder()
    with pytest.raises(EmbeddingMismatchError, match=r"fingerprint: 'model-a' there, 'model-b' now"):
        EmbeddingCache(tmp_path / "cache", "model-b").embed(items, embed)
    assert embed.calls == [] and sorted((tmp_path / "cache" / "data").iterdir()) == parts


def test_clip_windows_are_separate_entries(video_dir, tmp_path):
    path = str(video_dir / "red.mp4")
    items = [VideoClip(path), VideoClip(path, 0.0, 1.0), VideoClip(path, 0.0, 1.0)]
    embed = CountingEmbedder()
    result = EmbeddingCache(tmp_path / "cache", "m").embed(items, embed)
    assert len(embed.calls) == 2 and result.embeddings.shape == (3, 2)


def test_unreadable_video_is_skipped_or_raised(video_dir, broken_video, tmp_path):
    items = [*list_videos(video_dir), VideoClip(str(broken_video))]
    cache = EmbeddingCache(tmp_path / "cache", "m")
    with pytest.raises(RuntimeError, match=r"broken\.mp4"):
        cache.embed(items, CountingEmbedder(fail_on="broken.mp4"), batch_size=4)
    result = cache.embed(items, CountingEmbedder(fail_on="broken.mp4"), batch_size=4, skip_errors=True)
    assert [os.path.basename(i.path) for i in result.items] == ["blue.mp4", "green.mp4", "red.mp4"]
    assert result.failed[0][0].path == str(broken_video) and "cannot decode" in result.failed[0][1]


def test_missing_file_is_reported_before_any_work(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope\.mp4"):
        EmbeddingCache(tmp_path / "cache", "m").embed(
            [VideoClip(str(tmp_path / "nope.mp4"))], CountingEmbedder()
        )
    assert not (tmp_path / "cache").exists()


def test_an_unreadable_part_file_is_set_aside_and_its_clips_embedded_again(video_dir, tmp_path, caplog):
    items = list_videos(video_dir)
    EmbeddingCache(tmp_path / "cache", "m").embed(items[:1], CountingEmbedder())
    EmbeddingCache(tmp_path / "cache", "m").embed(items, CountingEmbedder())  # a second part: green, red
    (first,) = [p for p in (tmp_path / "cache" / "data").iterdir() if len(pq.read_table(p)) == 1]
    first.write_bytes(b"garbage")
    embed = CountingEmbedder()
    result = EmbeddingCache(tmp_path / "cache", "m").embed(items, embed)
    assert embed.calls == ["blue.mp4"] and (result.num_computed, result.num_reused) == (1, 2)
    assert (tmp_path / "cache" / "data" / f"{first.name}.unreadable").read_bytes() == b"garbage"
    assert f"could not read embedding cache part {first}" in caplog.text


def test_the_cache_is_the_folder_viclip_embed_writes_and_index_reads(video_dir, tmp_path):
    items = [*list_videos(video_dir), VideoClip(str(video_dir / "red.mp4"), 0.5, 1.25)]
    result = EmbeddingCache(tmp_path / "cache", "m", {"model": "tiny", "dtype": "float32"}).embed(
        items, CountingEmbedder()
    )
    table, info = load_embeddings(tmp_path / "cache")
    assert info["format"] == FORMAT and info["fingerprint"] == "m" and info["dim"] == 2
    assert (info["model"], info["dtype"], info["window_sec"]) == ("tiny", "float32", None)
    keys = [
        clip_key(p, s, e)
        for p, s, e in zip(*table.select(["path", "start_sec", "end_sec"]).to_pydict().values())
    ]
    assert keys == [clip_key(os.path.abspath(i.path), i.start_sec, i.end_sec) for i in items]
    torch.testing.assert_close(torch.tensor(embedding_matrix(table)), result.embeddings)
    assert table.column("file_size").to_pylist() == [os.path.getsize(i.path) for i in items]
    assert datasets.load_dataset(str(tmp_path / "cache"), split="train").num_rows == 4


def test_a_file_or_a_foreign_folder_as_the_cache_is_refused(video_dir, tmp_path):
    (tmp_path / "old.safetensors").write_bytes(b"an old cache file")
    with pytest.raises(EmbeddingMismatchError, match=r"old\.safetensors' is a file; the cache is a folder"):
        EmbeddingCache(tmp_path / "old.safetensors", "m").embed(list_videos(video_dir), CountingEmbedder())
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "cat.jpg").write_bytes(b"meow")
    with pytest.raises(EmbeddingMismatchError, match="is not an embedding folder"):
        EmbeddingCache(tmp_path / "photos", "m").embed(list_videos(video_dir), CountingEmbedder())
    assert [p.name for p in (tmp_path / "photos").iterdir()] == ["cat.jpg"]


def test_an_interrupted_run_keeps_what_it_computed(video_dir, broken_video, tmp_path):
    items = [*list_videos(video_dir), VideoClip(str(broken_video))]
    with pytest.raises(RuntimeError, match="cannot decode"):
        EmbeddingCache(tmp_path / "cache", "m").embed(
            items, CountingEmbedder(fail_on="broken.mp4"), batch_size=1
        )
    embed = CountingEmbedder()
    result = EmbeddingCache(tmp_path / "cache", "m").embed(items, embed)
    assert embed.calls == ["broken.mp4"] and result.num_reused == 3


def test_prune_drops_the_rows_of_clips_not_asked_for(video_dir, tmp_path):
    items = list_videos(video_dir)
    EmbeddingCache(tmp_path / "cache", "m").embed(items, CountingEmbedder())
    EmbeddingCache(tmp_path / "cache", "m").embed(items[:1], CountingEmbedder(), prune=True)
    table, _ = load_embeddings(tmp_path / "cache")
    assert table.column("path").to_pylist() == [os.path.abspath(items[0].path)]


def test_an_in_memory_cache_writes_nothing(video_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = EmbeddingCache(None, "m").embed(list_videos(video_dir), CountingEmbedder())
    assert result.num_computed == 3 and list(tmp_path.iterdir()) == []


def test_viclip_evaluate_cache_is_reused_and_viclip_index_reads_it(
    tiny_model_dir, video_dir, tmp_path, capsys
):
    from viclip_cli import main

    listing = tmp_path / "val.csv"
    listing.write_text(
        "path,label\n" + "".join(f"{video_dir / c}.mp4,{c}\n" for c in ["red", "green", "blue"])
    )
    argv = [
        "evaluate",
        "classification",
        str(listing),
        "--model",
        str(tiny_model_dir),
        "--templates",
        "single",
        "--dtype",
        "float32",  # not auto: the same cache on every CPU kind
    ]
    argv += ["--cache", str(tmp_path / "cache"), "--quiet", "--output"]
    assert main([*argv, str(tmp_path / "first.json")]) == 0
    parts = sorted((tmp_path / "cache" / "data").iterdir())
    assert main([*argv, str(tmp_path / "second.json")]) == 0
    assert sorted((tmp_path / "cache" / "data").iterdir()) == parts  # nothing embedded again
    first, second = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("first", "second"))
    assert first["predictions"] == second["predictions"] and first["top1"] == second["top1"]
    _, info = load_embeddings(tmp_path / "cache")
    assert (info["model"], info["model_revision"], info["dtype"]) == (str(tiny_model_dir), "local", "float32")
    frames = json.loads((tiny_model_dir / "config.json").read_text())["vision_config"]["num_frames"]
    assert info["num_frames"] == frames and info["sampling"] == "middle"
    capsys.readouterr()
    assert (
        main(["index", "--embeddings", str(tmp_path / "cache"), "--output-dir", str(tmp_path / "index")]) == 0
    )
    assert capsys.readouterr().out.startswith("3 clips, ")


def test_the_rows_of_a_file_not_visible_from_here_are_kept_as_viclip_embed_keeps_them(video_dir, tmp_path):
    """A folder made on a cluster may name files this machine cannot see: their rows stay until pruned."""
    items = _copy_videos(video_dir, tmp_path / "v")
    EmbeddingCache(tmp_path / "cache", "m").embed(items, CountingEmbedder())
    os.unlink(items[0].path)
    EmbeddingCache(tmp_path / "cache", "m").embed(items[1:], CountingEmbedder())
    assert len(load_embeddings(tmp_path / "cache")[0]) == 3
    EmbeddingCache(tmp_path / "cache", "m").embed(items[1:], CountingEmbedder(), prune=True)
    assert len(load_embeddings(tmp_path / "cache")[0]) == 2
