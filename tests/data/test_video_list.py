import json

import pytest

from viclip.data.video_list import list_videos, read_captioned_videos, read_labelled_videos
from viclip.processing import VideoClip


@pytest.mark.parametrize("columns", ["start_sec,end_sec", "start,end"])
def test_csv_labelled_list_with_relative_paths_and_optional_times(video_dir, columns):
    # start_sec/end_sec is the spelling; start/end is accepted as an alias in user files
    (video_dir / "list.csv").write_text(f"path,{columns},label\nred.mp4,,,red\nblue.mp4,0.5,1.5,blue\n")
    rows = read_labelled_videos(video_dir / "list.csv")
    assert rows[0].item == VideoClip(str(video_dir / "red.mp4")) and rows[0].label == "red"
    assert rows[1].item == VideoClip(str(video_dir / "blue.mp4"), 0.5, 1.5)


def test_jsonl_captions_group_videos(video_dir, tmp_path):
    lines = [
        {"path": str(video_dir / "red.mp4"), "caption": ["a red clip", "red"]},
        {"path": str(video_dir / "blue.mp4"), "caption": "a blue clip"},
        {"path": str(video_dir / "red.mp4"), "caption": "crimson"},
    ]
    (tmp_path / "c.jsonl").write_text("\n".join(json.dumps(x) for x in lines))
    gallery = read_captioned_videos(tmp_path / "c.jsonl")
    assert [v.path for v in gallery.videos] == [str(video_dir / "red.mp4"), str(video_dir / "blue.mp4")]
    assert gallery.captions == ["a red clip", "red", "a blue clip", "crimson"]
    assert gallery.caption_to_video == [0, 0, 1, 0]


@pytest.mark.parametrize(
    ("content", "error", "message"),
    [
        ("path,label\nmissing.mp4,x\n", FileNotFoundError, r"list.csv:2: video file .*missing.mp4"),
        ("path,label\nred.mp4,\n", ValueError, "list.csv:2: missing the 'label' column"),
        ("video_file,label\nred.mp4,x\n", ValueError, "missing the 'path' column"),
        ("path,start,label\nred.mp4,soon,x\n", ValueError, "list.csv:2: start_sec='soon' is not a number"),
        ("path,start_sec,end_sec,label\nred.mp4,2,1,x\n", ValueError, "end_sec 1 is not after start_sec 2"),
        (
            "path,start,start_sec,label\nred.mp4,1,1,x\n",
            ValueError,
            "list.csv:2: give either 'start_sec' or 'start', not both",
        ),
        ("path,label\n", ValueError, "has no rows"),
    ],
)
def test_bad_lists_name_the_line_and_problem(video_dir, tmp_path, content, error, message):
    path = tmp_path / "list.csv"
    path.write_text(content.replace("red.mp4", str(video_dir / "red.mp4")))
    with pytest.raises(error, match=message) as excinfo:
        read_labelled_videos(path)
    assert str(excinfo.value).count("list.csv:") <= 1  # the row is named once


def test_missing_folder_and_empty_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        list_videos(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="no video files"):
        list_videos(tmp_path)


@pytest.mark.parametrize("name", ["list.csv", "list.jsonl"])
def test_a_list_that_is_not_utf8_names_the_file_line_and_byte(video_dir, tmp_path, name):
    path = tmp_path / name
    good = (
        f"{video_dir / 'red.mp4'},red"
        if name.endswith(".csv")
        else json.dumps({"path": "red.mp4", "label": "r"})
    )
    header = "path,label\n" if name.endswith(".csv") else ""
    path.write_bytes(f"{header}{good}\n".encode() + b'{"label": "caf\xff"}\n')
    line = 3 if name.endswith(".csv") else 2
    with pytest.raises(ValueError) as excinfo:
        read_labelled_videos(path)
    assert str(excinfo.value) == (
        f"{path}:{line}: not UTF-8 text (byte 0xff at column 15); save the file as UTF-8"
    )


def test_a_utf8_list_with_a_byte_order_mark_reads_its_first_column(video_dir, tmp_path):
    (tmp_path / "list.csv").write_bytes(
        b"\xef\xbb\xbfpath,label\n" + f"{video_dir / 'red.mp4'},red\n".encode()
    )
    assert read_labelled_videos(tmp_path / "list.csv")[0].label == "red"
