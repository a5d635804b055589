"""`viclip evaluate classification|retrieval`: results JSON, plots, and metrics that do not apply."""

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
    assert results["top5"] is None and results["avg"] is None  # 3 classes: top-5 does not apply
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
    assert results["t2v_R@5"] is None and results["t2v_R@10"] is None  # 2 videos: R@5 and R@10 do not apply
    assert results["v2t_R@1"] is not None and results["v2t_R@5"] is None  # 3 captions
    assert (tmp_path / "sim.png").is_file()


def test_evaluate_bad_list_is_reported_with_line(capsys, tiny_model_dir, tmp_path):
    listing = tmp_path / "val.csv"
    listing.write_text("path,label\nmissing.mp4,x\n")
    code, _, err = run(capsys, "evaluate", "classification", str(listing), "--model", str(tiny_model_dir))
    assert code == 2 and "val.csv:2" in err and "missing.mp4" in err
    assert not list(tmp_path.glob("*.json"))


def test_metrics_that_do_not_apply_are_n_a_in_the_table(capsys, tiny_model_dir, video_dir, tmp_path):
    listing = tmp_path / "val.csv"
    listing.write_text("path,label\n" + "".join(f"{video_dir / c}.mp4,{c}\n" for c in ["red", "blue"]))
    output = tmp_path / "r.json"
    argv = ["evaluate", "classification", str(listing), "--model", str(tiny_model_dir), "--quiet"]
    code, out, err = run(capsys, *argv, "--templates", "single", "--output", str(output))
    assert code == 0, err
    table = dict(line.split(None, 1) for line in out.splitlines() if not line.startswith("results"))
    assert table["top5"] == "n/a" and table["avg"] == "n/a" and float(table["top1"]) >= 0
    assert json.loads(output.read_text())["top5"] is None


def test_an_output_that_is_a_folder_is_a_usage_error(capsys, tiny_model_dir, tmp_path):
    listing = tmp_path / "val.csv"
    listing.write_text("path,label\nmissing.mp4,x\n")
    code, _, err = run(
        capsys, "evaluate", "classification", str(listing), "--model", "m", "--output", str(tmp_path)
    )
    assert code == 2 and "is a folder" in err
