"""Candidate labels from a label file or a comma-separated list."""

from __future__ import annotations

import pytest

from viclip.evaluation import parse_labels, read_label_file


def test_blank_and_comment_lines_are_not_labels(tmp_path):
    path = tmp_path / "labels.txt"
    path.write_text("# Kinetics subset\nplaying guitar\n\n   # skipped for now\n  cooking  \n")
    assert read_label_file(path) == ["playing guitar", "cooking"]


def test_duplicate_labels_are_named_with_the_file(tmp_path):
    path = tmp_path / "labels.txt"
    path.write_text("a\nb\na\n")
    with pytest.raises(ValueError, match=r"labels.txt: duplicate labels \['a'\]"):
        read_label_file(path)


def test_a_comma_separated_list_drops_empty_entries():
    assert parse_labels(" red, ,blue,") == ["red", "blue"]
