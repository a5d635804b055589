"""`viclip classify`: ranked labels per video, one bad video skipped, errors in one line."""

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
        (["{video_dir}", "--model", "{model}", "--labels", "a,b"], "is a directory"),
        (["{video}", "--model", "no/such/folder", "--labels", "a,b"], "no such folder"),
        (
            ["{video}", "--model", "{model}", "--labels", "a,b", "--templates", "no placeholder"],
            "placeholder",
        ),
        (
            ["{video}", "--model", "{model}", "--labels", "a,b", "--start", "3", "--end", "1"],
            "not after start",
        ),
        (
            ["{broken}", "--model", "{model}", "--labels", "a,b"],
            "no video could be classified: cannot read video",
        ),
    ],
)
def test_classify_errors_say_what_to_fix(capsys, tiny_model_dir, video_dir, broken_video, args, message):
    fields = {
        "video": video_dir / "red.mp4",
        "video_dir": video_dir,
        "model": tiny_model_dir,
        "broken": broken_video,
    }
    args = [a.format(**fields) for a in args]
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


def test_one_unreadable_video_among_several_is_skipped_and_reported(
    capsys, tiny_model_dir, video_dir, broken_video
):
    videos = [str(video_dir / "red.mp4"), str(broken_video), str(video_dir / "blue.mp4")]
    argv = [
        "classify",
        *videos,
        "--model",
        str(tiny_model_dir),
        "--labels",
        "red,blue",
        "--json",
        "--batch-size",
        "3",
        "--quiet",
    ]
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    assert [r["video"] for r in json.loads(out)] == [videos[0], videos[2]]
    assert err.strip().splitlines() == [
        f"viclip classify: warning: skipped {err.split('skipped ', 1)[1].strip()}"
    ]
    assert str(broken_video) in err and "cannot read video" in err


def test_comment_and_blank_lines_of_a_label_file_are_not_labels(capsys, tiny_model_dir, video_dir, tmp_path):
    labels = tmp_path / "labels.txt"
    labels.write_text("# colours of the test videos\nred\n\n  # green is left out\nblue\n")
    argv = ["classify", str(video_dir / "red.mp4"), "--model", str(tiny_model_dir), "--json"]
    code, out, err = run(capsys, *argv, "--labels-file", str(labels))
    assert code == 0, err
    assert sorted(entry["label"] for entry in json.loads(out)[0]["labels"]) == ["blue", "red"]


def test_a_clamped_clip_range_is_a_one_line_note(capsys, tiny_model_dir, video_dir):
    argv = ["classify", str(video_dir / "red.mp4"), "--model", str(tiny_model_dir), "--labels", "a,b"]
    code, _, err = run(capsys, *argv, "--start", "1", "--end", "60", "--quiet")
    assert code == 0, err
    notes = [line for line in err.splitlines() if line.startswith("note: ")]
    assert len(notes) == 1 and "60" in notes[0], err
    assert ".py:" not in err and "Warning" not in err
