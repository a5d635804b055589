"""Embedding rows name their videos by absolute path: what one working directory embedded, another opens (issue 23
#7)."""

from __future__ import annotations

import json
import os
import shutil

from viclip.embedding import embed_videos, index_folder, load_embeddings
from viclip.processing import read_video_clip
from viclip_cli import main as viclip_main


def _videos(video_dir, folder):
    folder.mkdir(parents=True)
    for name in ("red.mp4", "long.mp4"):
        shutil.copy(video_dir / name, folder / name)
    return folder


def test_rows_embedded_from_one_cwd_are_searched_and_opened_from_another(
    monkeypatch, capsys, video_dir, tiny_model_dir, tmp_path
):
    work, elsewhere = tmp_path / "work", tmp_path / "elsewhere"
    videos = _videos(video_dir, work / "videos")
    elsewhere.mkdir()
    monkeypatch.chdir(work)
    result = embed_videos("videos", str(tiny_model_dir), "emb", engine="local", progress=False)
    assert result.num_embedded == 2
    table, _ = load_embeddings("emb")
    assert sorted(table.column("path").to_pylist()) == [str(videos / "long.mp4"), str(videos / "red.mp4")]

    monkeypatch.chdir(elsewhere)
    assert viclip_main(["index", "--embeddings", str(work / "emb"), "--output-dir", "index"]) == 0
    capsys.readouterr()
    query = str(videos / "red.mp4")
    assert viclip_main(["search", "--index", "index", "--video", query, "--json", "--top-k", "2"]) == 0
    hits = json.loads(capsys.readouterr().out)["results"][0]["results"]
    assert hits[0]["path"] == query
    for hit in hits:
        frames, _ = read_video_clip(hit["path"], num_frames=2)  # opens from here
        assert frames.shape[0] == 2


def test_a_folder_search_cache_made_from_one_cwd_is_reused_from_another(
    monkeypatch, video_dir, embedder, tmp_path
):
    work, elsewhere = tmp_path / "work", tmp_path / "elsewhere"
    videos = _videos(video_dir, work / "videos")
    elsewhere.mkdir()
    monkeypatch.chdir(work)
    first = index_folder(embedder, "videos", progress=False)
    assert first.result.num_embedded == 2
    monkeypatch.chdir(elsewhere)
    again = index_folder(embedder, os.path.relpath(videos, elsewhere), progress=False)
    assert (again.result.num_embedded, again.result.num_reused) == (0, 2)
