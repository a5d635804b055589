"""`viclip search`: text and video queries over a folder, through the embedding cache."""

import json

import pytest

from viclip_cli import main as viclip_main


def run(capsys, *argv):
    try:
        code = viclip_main(list(argv))
    except SystemExit as exit_info:
        code = exit_info.code
    out, err = capsys.readouterr()
    return code, out, err


def test_search_by_text_uses_and_reuses_the_cache(capsys, tiny_model_dir, video_dir, tmp_path):
    cache = tmp_path / "emb.safetensors"
    argv = [
        "search",
        str(video_dir),
        "--model",
        str(tiny_model_dir),
        "--cache",
        str(cache),
        "--json",
        "--quiet",
    ]
    code, out, err = run(capsys, *argv, "--text", "a red square", "--top-k", "2")
    assert code == 0, err
    first = json.loads(out)
    assert first["cache"] == {"computed": 3, "reused": 0}
    assert len(first["results"][0]["results"]) == 2
    code, out, _ = run(capsys, *argv, "--text", "a red square", "--top-k", "2")
    second = json.loads(out)
    assert second["cache"] == {"computed": 0, "reused": 3}
    assert second["results"] == first["results"]


def test_search_by_video_finds_itself_first(capsys, tiny_model_dir, video_dir, tmp_path):
    query = str(video_dir / "green.mp4")
    code, out, err = run(
        capsys,
        "search",
        str(video_dir),
        "--model",
        str(tiny_model_dir),
        "--no-cache",
        "--video",
        query,
        "--json",
        "--quiet",
    )
    assert code == 0, err
    hits = json.loads(out)["results"][0]["results"]
    assert hits[0]["path"] == query and hits[0]["score"] == pytest.approx(1.0, abs=1e-4)
    assert not list(video_dir.glob("*.safetensors"))


def test_search_on_converted_tiny_fixture_by_video(
    capsys, converted_tiny_fixture, tiny_processor, video_dir, tmp_path
):
    folder = tmp_path / "converted"
    converted_tiny_fixture.save_pretrained(folder)
    tiny_processor.save_pretrained(folder)
    query = str(video_dir / "blue.mp4")
    code, out, err = run(
        capsys,
        "search",
        str(video_dir),
        "--model",
        str(folder),
        "--no-cache",
        "--video",
        query,
        "--json",
        "--quiet",
    )
    assert code == 0, err
    assert json.loads(out)["results"][0]["results"][0]["path"] == query
    # text needs a tokenizer matching the fixture's 1000-token vocabulary: a clear error, not a crash
    code, _, err = run(
        capsys, "search", str(video_dir), "--model", str(folder), "--no-cache", "--text", "a dog", "--quiet"
    )
    assert code == 2 and "vocabulary has 1000 tokens" in err


def test_search_errors(capsys, tiny_model_dir, video_dir, tmp_path):
    code, _, err = run(capsys, "search", str(video_dir), "--model", str(tiny_model_dir))
    assert code == 2 and "--text" in err
    code, _, err = run(
        capsys, "search", str(tmp_path / "nope"), "--model", str(tiny_model_dir), "--text", "x"
    )
    assert code == 2 and "does not exist" in err
