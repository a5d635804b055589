"""The folder walk of list_videos takes regular files only and never follows a symlink loop."""

from __future__ import annotations

import os
import warnings

import pytest

from viclip.data import list_videos


def test_walk_takes_regular_files_and_links_to_them_and_leaves_out_fifos_and_loops(tmp_path):
    (tmp_path / "good.mp4").write_bytes(b"a video")
    (tmp_path / "empty.mp4").write_bytes(b"")  # regular: listed, the decoder says why it fails
    (tmp_path / "notes.txt").write_text("not a video")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "deep.MP4").write_bytes(b"another")
    (tmp_path / "alias.mp4").symlink_to(tmp_path / "good.mp4")
    os.mkfifo(tmp_path / "stream.mp4")
    (tmp_path / "loop_a.mp4").symlink_to(tmp_path / "loop_b.mp4")
    (tmp_path / "loop_b.mp4").symlink_to(tmp_path / "loop_a.mp4")
    (tmp_path / "sub" / "up").symlink_to(tmp_path)  # a folder loop: sub/up/sub/up/...

    with pytest.warns(UserWarning, match="3 entries of .* that are not regular files left out: ") as caught:
        clips = list_videos(tmp_path)
    assert [os.path.relpath(c.path, tmp_path) for c in clips] == [
        "alias.mp4",
        "empty.mp4",
        "good.mp4",
        os.path.join("sub", "deep.MP4"),
    ]
    message = str(caught[0].message)
    assert all(name in message for name in ("loop_a.mp4", "loop_b.mp4", "stream.mp4"))


def test_walk_without_recursion_stays_at_the_top_and_warns_about_nothing_regular(tmp_path):
    (tmp_path / "top.mp4").write_bytes(b"a video")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "deep.mp4").write_bytes(b"another")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert [os.path.basename(c.path) for c in list_videos(tmp_path, recursive=False)] == ["top.mp4"]
