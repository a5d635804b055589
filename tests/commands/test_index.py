"""`viclip index` never deletes what it did not write: an existing folder (an index or anything else) is replaced
only with --force, and every refusal is one line with exit 2 before the index is built."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from viclip_cli import main

pytest.importorskip("faiss")


@pytest.fixture
def embeddings(tmp_path) -> Path:
    """An embedding folder of 6 unit vectors (4-d), written through the store `viclip embed` uses."""
    from viclip.inference.store import EmbeddingStore

    folder = tmp_path / "emb"
    store = EmbeddingStore(folder)
    store.open(
        {
            "format": "viclip-embeddings/1",
            "fingerprint": "f",
            "dtype": "float32",
            "dim": 4,
            "model": "m",
            "model_revision": "local",
        }
    )
    vectors = np.random.default_rng(0).normal(size=(6, 4)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    store.append(
        {
            "path": [f"v{i}.mp4" for i in range(6)],
            "start_sec": [None] * 6,
            "end_sec": [None] * 6,
            "embedding": vectors.tolist(),
            "model": ["m"] * 6,
            "model_revision": ["local"] * 6,
            "file_size": [1] * 6,
            "file_mtime_ns": [1] * 6,
        },
        dim=4,
    )
    return folder


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_an_existing_model_folder_is_refused_and_kept_without_force(embeddings, tmp_path, capsys):
    model = tmp_path / "model"
    model.mkdir()
    for name in ("config.json", "model.safetensors", "tokenizer.json"):
        (model / name).write_text("mine")
    code, out, err = run(capsys, "index", "--embeddings", embeddings, "--output-dir", model)
    assert code == 2 and out == ""
    assert err.strip() == (
        f"viclip index: error: --output-dir {str(model)!r} already exists and is not a vector index (it holds "
        "config.json, model.safetensors, tokenizer.json); pass --force to replace it and everything in it"
    )
    assert sorted(p.name for p in model.iterdir()) == ["config.json", "model.safetensors", "tokenizer.json"]


def test_an_existing_index_is_replaced_only_with_force(embeddings, tmp_path, capsys):
    index = tmp_path / "index"
    assert run(capsys, "index", "--embeddings", embeddings, "--output-dir", index)[0] == 0
    before = (index / "index_info.json").read_text()
    code, _, err = run(capsys, "index", "--embeddings", embeddings, "--output-dir", index, "--kind", "hnsw")
    assert code == 2 and "already holds a vector index; pass --force" in err
    assert (index / "index_info.json").read_text() == before
    code, out, _ = run(
        capsys, "index", "--embeddings", embeddings, "--output-dir", index, "--kind", "hnsw", "--force"
    )
    assert code == 0 and "6 clips, hnsw index (4-d)" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["emb", "index"]  # no temporary or old folder left


def test_an_empty_existing_folder_is_written_into(embeddings, tmp_path, capsys):
    (tmp_path / "index").mkdir()
    assert run(capsys, "index", "--embeddings", embeddings, "--output-dir", tmp_path / "index")[0] == 0
    assert (tmp_path / "index" / "index.faiss").is_file()


def test_an_output_under_a_file_is_one_line_before_any_work(embeddings, tmp_path, capsys):
    (tmp_path / "a-file").write_text("x")
    code, _, err = run(
        capsys, "index", "--embeddings", embeddings, "--output-dir", tmp_path / "a-file" / "index"
    )
    assert code == 2 and err.count("\n") == 1
    assert f"{str(tmp_path / 'a-file')!r} is a file, not a folder" in err


def test_the_library_refuses_to_overwrite_without_overwrite(embeddings, tmp_path):
    from viclip.embedding import VectorIndex

    index = VectorIndex.from_embeddings(embeddings)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match=r"is not a vector index .*overwrite=True"):
        index.save(tmp_path / "busy")
    assert (tmp_path / "busy" / "notes.txt").read_text() == "mine"
