"""`viclip embed` -> `viclip index` -> `viclip search --index`: text-to-moment from the command line."""

import json

import pytest

from .conftest import run_cli as run


def test_embed_index_and_search_find_the_moment_of_a_query_clip(capsys, video_dir, tiny_model_dir, tmp_path):
    emb, index = tmp_path / "emb", tmp_path / "index"
    code, out, err = run(
        capsys, "embed", "--inputs", video_dir, "--model", tiny_model_dir, "--output-dir", emb,
        "--window", "1", "--stride", "0.5", "--engine", "local", "--quiet",
    )  # fmt: skip
    assert code == 0, err
    assert "22 clips: 20 embedded, 0 already done, 2 failed" in out
    assert "broken.mp4" in err and "empty.mp4" in err
    code, out, err = run(capsys, "index", "--embeddings", emb, "--output-dir", index)
    assert code == 0 and "20 clips, exact index (32-d)" in out, err

    # The window [3 s, 4 s) of long.mp4 is the only one with the white square: cut it out as the query.
    from viclip.data.synthetic import write_video
    from viclip.processing import read_video_clip

    frames, _ = read_video_clip(video_dir / "long.mp4", 3.0, 4.0, num_frames=8)
    write_video(tmp_path / "query.mp4", list(frames), fps=8)
    code, out, err = run(
        capsys, "search", "--index", index, "--video", tmp_path / "query.mp4", "--json", "--top-k", "3"
    )
    assert code == 0, err
    best = json.loads(out)["results"][0]["results"][0]
    assert (best["path"], best["start_sec"], best["end_sec"]) == (str(video_dir / "long.mp4"), 3.0, 4.0)
    assert best["score"] == pytest.approx(1.0, abs=0.01)

    code, out, err = run(capsys, "search", "--index", index, "--text", "a white square", "--top-k", "2")
    assert code == 0, err
    assert out.startswith("20 clips (exact index)") and out.count("long.mp4") + out.count("mp4") >= 2


def test_search_needs_one_source_and_one_kind_of_query(capsys, tmp_path):
    code, _, err = run(capsys, "search", "--text", "x")
    assert code == 2 and "FOLDER or an --index" in err
    code, _, err = run(capsys, "search", "--index", tmp_path / "nope", "--text", "x")
    assert code == 2 and "does not exist" in err


def test_embed_usage_errors(capsys, video_dir, tiny_model_dir, tmp_path):
    base = ["embed", "--inputs", video_dir, "--model", tiny_model_dir, "--output-dir", tmp_path / "e"]
    code, _, err = run(capsys, *base, "--stride", "1")
    assert code == 2 and "--stride needs --window" in err
    code, _, err = run(capsys, *base, "--window", "-1")
    assert code == 2 and "must be positive" in err
    code, _, err = run(capsys, *base, "--device", "bogus", "--engine", "local")
    assert code == 2 and err.strip() == (
        "viclip embed: error: --device 'bogus' is not a device; use cpu, cuda or cuda:N"
    )
    code, _, err = run(capsys, *base, "--cpus-per-actor", "0")
    assert code == 2 and "--cpus-per-actor: must be at least 1, got 0" in err


def test_cpu_actors_that_take_every_cpu_are_refused(capsys, ray_local, video_dir, tiny_model_dir, tmp_path):
    base = ["embed", "--inputs", video_dir, "--model", tiny_model_dir, "--output-dir", tmp_path / "e"]
    code, _, err = run(capsys, *base, "--engine", "ray", "--cpus-per-actor", "2", "--quiet")
    assert code == 2 and "take all 2 CPUs of the Ray cluster and leave none to decode" in err
    assert not (tmp_path / "e" / "data").exists() or not any((tmp_path / "e" / "data").iterdir())
