import numpy as np
import pytest

from viclip.embedding import VectorIndex, embed_videos, plan_windows
from viclip.embedding import index as index_module


def unit_vectors(count, dim=16, seed=0):
    vectors = np.random.default_rng(seed).standard_normal((count, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def clips(count):
    return {
        "path": [f"v{i}.mp4" for i in range(count)],
        "start_sec": [float(i) for i in range(count)],
        "end_sec": [float(i) + 2.0 for i in range(count)],
    }


def test_exact_index_equals_brute_force():
    vectors, queries = unit_vectors(500), unit_vectors(7, seed=1)
    index = VectorIndex.build(vectors, clips(500), kind="exact")
    hits = index.search(queries, top_k=5)
    scores = queries @ vectors.T
    for row, query_scores in zip(hits, scores):
        expected = np.argsort(-query_scores)[:5]
        assert [hit.path for hit in row] == [f"v{i}.mp4" for i in expected]
        np.testing.assert_allclose([hit.score for hit in row], query_scores[expected], rtol=1e-5)
        assert [hit.rank for hit in row] == [1, 2, 3, 4, 5]
    assert (row[0].start_sec, row[0].end_sec) == (float(expected[0]), float(expected[0]) + 2.0)


@pytest.mark.parametrize("kind", ["ivf", "hnsw"])
def test_approximate_indexes_find_the_true_neighbours_of_indexed_points(kind):
    vectors = unit_vectors(2000, dim=32)
    index = VectorIndex.build(vectors, clips(2000), kind=kind)
    hits = index.search(vectors[:50], top_k=1)
    assert sum(row[0].path == f"v{i}.mp4" for i, row in enumerate(hits)) >= 48
    assert index.kind == kind and index.info["params"]


def test_auto_is_exact_up_to_the_limit_and_hnsw_beyond(monkeypatch):
    assert VectorIndex.build(unit_vectors(100), clips(100)).kind == "exact"
    monkeypatch.setattr(index_module, "EXACT_LIMIT", 50)
    assert VectorIndex.build(unit_vectors(100), clips(100)).kind == "hnsw"


def test_saved_index_loads_and_answers_the_same(tmp_path):
    vectors, queries = unit_vectors(300), unit_vectors(3, seed=2)
    index = VectorIndex.build(vectors, clips(300), kind="ivf", info={"model": "m"})
    index.save(tmp_path / "index")
    with pytest.raises(FileExistsError, match="already holds a vector index"):
        index.save(tmp_path / "index")  # never replaced silently
    index.save(tmp_path / "index", overwrite=True)
    loaded = VectorIndex.load(tmp_path / "index")
    assert loaded.search(queries, 4) == index.search(queries, 4)
    assert (loaded.kind, loaded.info["model"], len(loaded)) == ("ivf", "m", 300)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index"]


def test_bad_queries_and_folders_are_one_clear_error(tmp_path):
    index = VectorIndex.build(unit_vectors(10), clips(10), kind="exact")
    with pytest.raises(ValueError, match=r"\(n, 16\)"):
        index.search(np.zeros((2, 8), np.float32))
    with pytest.raises(FileNotFoundError, match=r"index\.faiss"):
        VectorIndex.load(tmp_path)
    with pytest.raises(ValueError, match="kind"):
        VectorIndex.build(unit_vectors(10), clips(10), kind="flat")


def test_windows_cover_a_video_and_end_at_its_end():
    assert plan_windows(10.0, 4.0, 2.0) == [(0.0, 4.0), (2.0, 6.0), (4.0, 8.0), (6.0, 10.0)]
    assert plan_windows(9.0, 4.0, 3.0) == [(0.0, 4.0), (3.0, 7.0), (5.0, 9.0)]
    assert plan_windows(2.5, 4.0, 2.0) == [(0.0, 2.5)]
    with pytest.raises(ValueError, match="gaps"):
        plan_windows(10.0, 2.0, 3.0)


def test_a_video_query_finds_the_window_where_the_square_appears(
    video_dir, tiny_model_dir, embedder, tmp_path
):
    embed_videos(
        [video_dir / "long.mp4", video_dir / "red.mp4"],
        str(tiny_model_dir),
        tmp_path / "emb",
        window_sec=1.0,
        stride_sec=0.5,
        engine="local",
        progress=False,
    )
    index = VectorIndex.from_embeddings(tmp_path / "emb")
    # the square is on screen in [3 s, 4 s) of long.mp4 only; the query is that moment as a clip
    best = index.search_video(embedder, [(str(video_dir / "long.mp4"), 3.0, 4.0)], top_k=3)[0]
    assert (best[0].path, best[0].start_sec, best[0].end_sec) == (str(video_dir / "long.mp4"), 3.0, 4.0)
    assert best[0].score == pytest.approx(1.0, abs=1e-4)
    assert index.info["model"] == str(tiny_model_dir) and index.kind == "exact"
