"""`viclip serve` the command: what it serves (an index, embeddings, a folder it embeds first) and its usage errors.
uvicorn.run is replaced by a stand-in that keeps the app, which the test then queries in-process."""

from __future__ import annotations

import os
import shutil
import socket

import pytest
from fastapi.testclient import TestClient

from viclip_cli import main


@pytest.fixture
def served(monkeypatch) -> dict:
    """What the command handed to uvicorn.run (the app, host and port)."""
    import uvicorn

    handed: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: handed.update(app=app, **kwargs))
    return handed


def run_cli(capsys, *argv) -> tuple[int, str]:
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exit_info:
        code = exit_info.code
    return code, capsys.readouterr().err


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_an_index_uses_its_model_and_caches_thumbnails_beside_it(
    capsys, served, index, tiny_model_dir, tmp_path
):
    from viclip.embedding import VectorIndex

    folder = tmp_path / "index"
    VectorIndex(index.index, index.clips, "exact", {**index.info, "model": str(tiny_model_dir)}).save(folder)
    port = free_port()
    code, err = run_cli(capsys, "serve", "--index", folder, "--port", port, "--device", "cpu", "--quiet")
    assert code == 0, err
    assert (served["host"], served["port"]) == ("127.0.0.1", port)
    assert f"7 moments (exact index, model {tiny_model_dir})" in err and f"http://127.0.0.1:{port}/" in err
    client = TestClient(served["app"])
    assert client.get("/api/search", params={"text": "blue first half"}).json()["results"][0]["id"] == 4
    assert client.get("/api/thumbnails/4.jpg").status_code == 200
    assert len(list((folder / "thumbnails").glob("*.jpg"))) == 1


def test_serve_a_folder_embeds_it_first_and_never_serves_a_symlink_out_of_it(
    capsys, served, library, tiny_model_dir, tmp_path
):
    folder = tmp_path / "videos"
    folder.mkdir()
    shutil.copy(library["root"] / "red.mp4", folder)
    shutil.copy(library["root"] / "green.mp4", folder)
    os.symlink(library["secret"], folder / "escape.mp4")
    argv = ["serve", folder, "--model", tiny_model_dir, "--device", "cpu", "--port", free_port(), "--quiet"]
    code, err = run_cli(capsys, *argv)
    assert code == 0, err
    assert (folder / ".viclip-embeddings" / "embedding_info.json").is_file()
    client = TestClient(served["app"])
    results = client.get("/api/search", params={"text": "a red square", "top_k": 3}).json()["results"]
    by_name = {os.path.basename(r["path"]): r["id"] for r in results}
    assert set(by_name) == {"red.mp4", "green.mp4", "escape.mp4"}
    assert all(r["start_sec"] is None for r in results)  # whole videos
    assert client.get(f"/api/videos/{by_name['red.mp4']}").status_code == 200
    assert client.get(f"/api/videos/{by_name['escape.mp4']}").status_code == 404
    assert client.get(f"/api/thumbnails/{by_name['green.mp4']}.jpg").status_code == 200
    assert list((folder / ".viclip-embeddings" / "thumbnails").glob("*.jpg"))


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ([], "exactly one of them"),
        (["--index", "{tmp}", "--embeddings", "{tmp}"], "exactly one of them"),
        (["--index", "{tmp}/missing"], "does not exist"),
        (["{tmp}/missing", "--model", "m"], "does not exist"),
        (["--index", "{tmp}", "--host", "no-such-host.invalid"], "is not an address"),
    ],
)
def test_usage_errors_exit_2_with_one_line(capsys, served, tmp_path, extra, words):
    code, err = run_cli(capsys, "serve", *[a.format(tmp=tmp_path) for a in extra], "--port", free_port())
    assert code == 2 and words in err and err.count("\n") == 1
    assert not served


def test_a_port_in_use_is_a_usage_error_before_anything_loads(capsys, served, tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, err = run_cli(capsys, "serve", "--index", tmp_path, "--port", port)
    assert code == 2 and "the port is in use" in err
    assert not served
