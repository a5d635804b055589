"""Caption lists (``path,start_sec,end_sec,caption``) as training data: `load_clips` runs their rows through
`load_internvid`'s pipeline (skip-and-count, virtual shards, resumable state, ``split_dataset_by_node``), and a
bad list is one error naming the file and the row."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from datasets.distributed import split_dataset_by_node

from viclip.data import SkipStats, load_clips, read_caption_rows
from viclip_cli import main

GOOD_CAPTIONS = [
    "a red square moves right",
    "a white square crosses a red background",
    "a green square moves right",
    "a blue square moves right",
]


def write_caption_list(folder: Path, video_dir: Path, broken_video: Path) -> Path:
    """Relative and absolute paths, two captions for one clip, a whole video, a missing and a corrupt file."""
    videos = folder / "videos"
    videos.mkdir(parents=True)
    for name in ("red", "green", "blue"):
        (videos / f"{name}.mp4").write_bytes((video_dir / f"{name}.mp4").read_bytes())
    (videos / "broken.mp4").write_bytes(broken_video.read_bytes())
    rows = [
        "path,start_sec,end_sec,caption",
        f"videos/red.mp4,0,2,{GOOD_CAPTIONS[0]}",
        f"videos/red.mp4,0,2,{GOOD_CAPTIONS[1]}",
        f"{videos / 'green.mp4'},0,1.5,{GOOD_CAPTIONS[2]}",
        f"videos/blue.mp4,,,{GOOD_CAPTIONS[3]}",
        "videos/missing.mp4,0,1,a clip that is not there",
        "videos/broken.mp4,0,1,a broken clip",
    ]
    path = folder / "clips.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture(scope="module")
def clips(tmp_path_factory, video_dir, broken_video) -> Path:
    return write_caption_list(tmp_path_factory.mktemp("clips"), video_dir, broken_video)


def _load(clips: Path, processor, **options):
    return load_clips(clips, processor=processor, shuffle=False, num_shards=2, **options)


def test_caption_rows_become_examples_and_missing_or_corrupt_videos_are_counted(clips, processor):
    stats = SkipStats()
    examples = list(_load(clips, processor, stats=stats))
    assert sorted(e["caption"] for e in examples) == sorted(GOOD_CAPTIONS)
    assert {e["youtube_id"] for e in examples} == {"red", "green", "blue"}
    assert all(e["pixel_values_videos"].shape == (4, 3, 32, 32) for e in examples)
    counts = stats.counts()
    assert (counts["examples"], counts["missing_video"], counts["corrupt_video"]) == (4, 1, 1)


def test_each_caption_of_a_clip_is_one_row_with_the_clips_segment(clips):
    rows = read_caption_rows(clips)
    red = [r for r in rows if r["listed_path"].endswith("red.mp4")]
    assert [r["caption"] for r in red] == GOOD_CAPTIONS[:2]
    assert all((r["listed_start_sec"], r["listed_end_sec"]) == (0.0, 2.0) for r in red)
    blue = next(r for r in rows if r["listed_path"].endswith("blue.mp4"))
    assert (blue["listed_start_sec"], blue["listed_end_sec"]) == (None, None)
    assert blue["listed_row"] == f"{clips}:5"


def test_relative_paths_are_read_against_video_root(tmp_path, clips):
    elsewhere = tmp_path / "lists" / "clips.csv"
    elsewhere.parent.mkdir()
    elsewhere.write_text("path,caption\nred.mp4,a red square\n")
    [row] = read_caption_rows(elsewhere, video_root=clips.parent / "videos")
    assert row["listed_path"] == str(clips.parent / "videos" / "red.mp4")


def test_a_stream_of_caption_rows_resumes_where_it_stopped(clips, processor):
    full = list(_load(clips, processor, seed=3))
    first = _load(clips, processor, seed=3)
    seen = []
    for example in first:
        seen.append(example)
        if len(seen) == 2:
            state = first.state_dict()
            break
    resumed = _load(clips, processor, seed=3)
    resumed.load_state_dict(state)
    rest = list(resumed)
    assert [e["caption"] for e in seen + rest] == [e["caption"] for e in full]
    for got, want in zip(rest, full[2:]):  # the same random frames and crops: seeds come from the row
        assert torch.equal(got["pixel_values_videos"], want["pixel_values_videos"])


def test_split_dataset_by_node_gives_each_rank_other_rows(clips, processor):
    ranks = [
        [e["caption"] for e in split_dataset_by_node(_load(clips, processor), rank=rank, world_size=2)]
        for rank in (0, 1)
    ]
    assert ranks[0] and ranks[1] and not set(ranks[0]) & set(ranks[1])
    assert sorted(ranks[0] + ranks[1]) == sorted(GOOD_CAPTIONS)


BAD_LISTS = {
    "no-caption-column": (b"path,start_sec,end_sec\nvideos/red.mp4,0,1\n", r":2: missing the 'caption' column"),
    "not-utf8": (b"path,caption\nvideos/red.mp4,caf\xe9\n", r":2: not UTF-8 text \(byte 0xe9 at column 19\)"),
    "negative-duration": (b"path,start_sec,end_sec,caption\nvideos/red.mp4,2,1,x\n", r":2: .*end_sec 1 is not after start_sec 2"),
    "empty": (b"path,start_sec,end_sec,caption\n", r"has no rows"),
}  # fmt: skip


@pytest.mark.parametrize("case", BAD_LISTS)
def test_a_bad_caption_list_is_one_error_naming_the_file_and_row(tmp_path, case):
    content, message = BAD_LISTS[case]
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message) as error:
        read_caption_rows(path)
    assert str(path) in str(error.value) and len(str(error.value).splitlines()) == 1


@pytest.mark.parametrize("case", BAD_LISTS)
def test_prepare_refuses_a_bad_caption_list_in_one_line_and_writes_nothing(tmp_path, capsys, case):
    content, message = BAD_LISTS[case]
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    assert main(["prepare", "--clips", str(path), "--output-dir", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(path) in err and re.search(message, err), err
    assert not (tmp_path / "out").exists()
