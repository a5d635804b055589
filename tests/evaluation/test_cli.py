import json

import pytest

from viclip.cli import main as viclip_main


def run(capsys, *argv):
    code = viclip_main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("command", ["classify", "search", "evaluate"])
def test_help_reads_well(capsys, command):
    with pytest.raises(SystemExit) as exit_info:
        viclip_main([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert (f"viclip {command}" in out and "--model" in out) or "classification" in out


def test_classify_prints_ranked_labels(capsys, tiny_model_dir, video_dir, example_video):
    code, out, err = run(
        capsys,
        "classify",
        str(video_dir / "red.mp4"),
        str(example_video),
        "--model",
        str(tiny_model_dir),
        "--labels",
        "red,green,blue",
        "--json",
        "--start",
        "0.5",
        "--end",
        "1.5",
    )
    assert code == 0, err
    results = json.loads(out)
    assert len(results) == 2 and results[1]["video"].endswith("example1.mp4 [0.5s-1.5s]")
    assert sorted(r["label"] for r in results[0]["labels"]) == ["blue", "green", "red"]
    assert sum(r["score"] for r in results[0]["labels"]) == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{video}", "--model", "{model}"], "no candidate labels"),
        (["{video}", "--model", "{model}", "--labels", " , "], "no candidate labels"),
        (["missing.mp4", "--model", "{model}", "--labels", "a,b"], "video file 'missing.mp4' does not exist"),
        (["{video}", "--model", "no/such/folder", "--labels", "a,b"], "no such folder"),
        (
            ["{video}", "--model", "{model}", "--labels", "a,b", "--templates", "no placeholder"],
            "placeholder",
        ),
        (
            ["{video}", "--model", "{model}", "--labels", "a,b", "--start", "3", "--end", "1"],
            "not after start",
        ),
        (["{broken}", "--model", "{model}", "--labels", "a,b"], "cannot read video"),
    ],
)
def test_classify_errors_say_what_to_fix(capsys, tiny_model_dir, video_dir, broken_video, args, message):
    args = [a.format(video=video_dir / "red.mp4", model=tiny_model_dir, broken=broken_video) for a in args]
    code, _, err = run(capsys, "classify", *args)
    assert code != 0
    assert "Traceback" not in err
    last_line = err.strip().splitlines()[-1]  # earlier lines may be the weight-loading progress bar
    assert last_line.startswith("viclip classify: error: ") and message in last_line


def test_model_folder_without_config_is_explained(capsys, tmp_path, video_dir):
    code, _, err = run(
        capsys, "classify", str(video_dir / "red.mp4"), "--model", str(tmp_path), "--labels", "a"
    )
    assert code == 2 and "viclip convert" in err


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
    assert code == 1 and "vocabulary has 1000 tokens" in err


def test_search_errors(capsys, tiny_model_dir, video_dir, tmp_path):
    code, _, err = run(capsys, "search", str(video_dir), "--model", str(tiny_model_dir))
    assert code == 2 and "--text" in err
    code, _, err = run(
        capsys, "search", str(tmp_path / "nope"), "--model", str(tiny_model_dir), "--text", "x"
    )
    assert code == 1 and "does not exist" in err


def test_evaluate_classification_writes_json_and_confusion_matrix(
    capsys, tiny_model_dir, video_dir, tmp_path
):
    listing = tmp_path / "val.csv"
    listing.write_text(
        "path,start,end,label\n"
        + "".join(f"{video_dir / c}.mp4,,,{c}\n" for c in ["red", "green", "blue"])
        + f"{video_dir / 'red.mp4'},0.0,1.0,red\n"
    )
    out_json, plot = tmp_path / "out" / "r.json", tmp_path / "out" / "cm.png"
    code, _, err = run(
        capsys,
        "evaluate",
        "classification",
        str(listing),
        "--model",
        str(tiny_model_dir),
        "--output",
        str(out_json),
        "--plot",
        str(plot),
        "--quiet",
        "--templates",
        "single",
    )
    assert code == 0, err
    results = json.loads(out_json.read_text())
    assert results["num_videos"] == 4 and results["num_classes"] == 3 and results["num_templates"] == 1
    assert results["top5"] == 100.0  # 3 classes
    assert results["avg"] == pytest.approx((results["top1"] + 100.0) / 2)
    correct = sum(p["predicted"] == p["label"] for p in results["predictions"])
    assert results["top1"] == pytest.approx(100 * correct / 4)
    assert plot.stat().st_size > 1000


def test_evaluate_retrieval_with_dual_softmax(capsys, tiny_model_dir, video_dir, tmp_path):
    listing = tmp_path / "caps.jsonl"
    rows = [
        {"path": str(video_dir / "red.mp4"), "caption": ["a red clip", "crimson"]},
        {"path": str(video_dir / "blue.mp4"), "caption": "a blue clip"},
    ]
    listing.write_text("\n".join(json.dumps(r) for r in rows))
    code, out, err = run(
        capsys,
        "evaluate",
        "retrieval",
        str(listing),
        "--model",
        str(tiny_model_dir),
        "--dual-softmax",
        "--plot",
        str(tmp_path / "sim.png"),
        "--quiet",
    )
    assert code == 0, err
    results = json.loads(out)
    assert results["num_videos"] == 2 and results["num_captions"] == 3
    for key in ("t2v_R@1", "v2t_R@10", "t2v_median_rank", "v2t_mean_rank", "dsl_t2v_R@1"):
        assert key in results
    assert results["t2v_R@10"] == 100.0
    assert (tmp_path / "sim.png").is_file()


def test_evaluate_bad_list_is_reported_with_line(capsys, tiny_model_dir, tmp_path):
    listing = tmp_path / "val.csv"
    listing.write_text("path,label\nmissing.mp4,x\n")
    code, _, err = run(capsys, "evaluate", "classification", str(listing), "--model", str(tiny_model_dir))
    assert code == 1 and "val.csv:2" in err and "missing.mp4" in err
    assert not list(tmp_path.glob("*.json"))
