"""Timestamp parsing, row validation and filters."""

from __future__ import annotations

import pytest

from viclip.data.annotations import (
    AnnotationError,
    AnnotationFilter,
    SkipReason,
    format_timestamp,
    parse_json_line,
    parse_row,
    parse_timestamp,
)

ROW = {
    "YoutubeID": "HdYoyzCSWyw",
    "Start_timestamp": "00:03:10.567",
    "End_timestamp": "00:03:11.200",
    "Caption": "woman using a computer mouse and keyboard",
    "Aesthetic_Score": 4.58984375,
    "UMT_Score": 0.39794921875,
}


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("00:03:10.567", 190.567),
        ("01:00:00.000", 3600.0),
        ("00:00:05", 5.0),
        ("03:10.5", 190.5),
        (12.25, 12.25),
    ],
)
def test_parse_timestamp_gives_seconds(text, seconds):
    assert parse_timestamp(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "bad", ["", "3:1x:00", "00:61:00.000", "00:00:75.0", "-00:00:01", "abc", None, True, -1.0]
)
def test_parse_timestamp_rejects_bad_values_naming_them(bad):
    with pytest.raises(ValueError, match="invalid timestamp"):
        parse_timestamp(bad)


def test_format_timestamp_inverts_parse():
    for seconds in (0.0, 0.05, 190.567, 3723.004):
        assert parse_timestamp(format_timestamp(seconds)) == pytest.approx(seconds)
    assert format_timestamp(190.567) == "00:03:10.567"


def test_parse_row_reads_the_real_internvid_row():
    clip = parse_row(ROW)
    assert clip.youtube_id == "HdYoyzCSWyw"
    assert clip.start_sec == pytest.approx(190.567)
    assert clip.end_sec == pytest.approx(191.2)
    assert clip.duration == pytest.approx(0.633)
    assert clip.umt_score == 0.39794921875


@pytest.mark.parametrize(
    ("change", "reason", "message"),
    [
        ({"Start_timestamp": "00:03:1o.567"}, SkipReason.BAD_TIMESTAMP, "'00:03:1o.567'"),
        ({"End_timestamp": "00:03:10.567"}, SkipReason.EMPTY_SEGMENT, "not before end"),
        ({"End_timestamp": "00:00:01.000"}, SkipReason.EMPTY_SEGMENT, "not before end"),
        ({"Caption": None}, SkipReason.MISSING_FIELD, "Caption"),
        ({"YoutubeID": "../../etc/passwd"}, SkipReason.BAD_YOUTUBE_ID, "passwd"),
        ({"UMT_Score": "high"}, SkipReason.BAD_SCORE, "UMT_Score='high' is not a number"),
        ({"Aesthetic_Score": [4.5]}, SkipReason.BAD_SCORE, "Aesthetic_Score"),
        ({"Caption": "a \udc80 circle"}, SkipReason.BAD_TEXT, "Caption=.* lone surrogate"),
        ({"Caption": b"a \xff circle"}, SkipReason.BAD_TEXT, "Caption=.* not valid UTF-8"),
    ],
)
def test_parse_row_rejects_bad_rows_with_a_reason(change, reason, message):
    with pytest.raises(AnnotationError, match=message) as info:
        parse_row({**ROW, **change})
    assert info.value.reason is reason


def test_filter_checks_each_threshold():
    clip = parse_row(ROW)  # UMT 0.398, aesthetic 4.59, 0.633 s, 7 words
    assert AnnotationFilter().check(clip) is None
    assert AnnotationFilter(min_umt_score=0.3, min_aesthetic_score=4.0, min_duration=0.5, max_duration=10,
                            min_caption_words=7).check(clip) is None  # fmt: skip
    assert AnnotationFilter(min_umt_score=0.4).check(clip)[0] is SkipReason.LOW_UMT_SCORE
    assert AnnotationFilter(min_aesthetic_score=5).check(clip)[0] is SkipReason.LOW_AESTHETIC_SCORE
    assert AnnotationFilter(min_duration=1.0).check(clip)[0] is SkipReason.DURATION_OUT_OF_BOUNDS
    assert AnnotationFilter(max_duration=0.5).check(clip)[0] is SkipReason.DURATION_OUT_OF_BOUNDS
    assert AnnotationFilter(min_caption_words=8).check(clip)[0] is SkipReason.SHORT_CAPTION
    no_scores = parse_row({k: v for k, v in ROW.items() if k != "UMT_Score"})
    assert AnnotationFilter(min_umt_score=0.1).check(no_scores)[0] is SkipReason.LOW_UMT_SCORE


@pytest.mark.parametrize("column", ["UMT_Score", "Aesthetic_Score"])
def test_a_nan_score_fails_its_threshold(column):
    # Regression: `NaN < threshold` is False, so a NaN score used to pass every threshold.
    clip = parse_row({**ROW, column: float("nan")})
    filters = AnnotationFilter(min_umt_score=0.1, min_aesthetic_score=1.0)
    expected = SkipReason.LOW_UMT_SCORE if column == "UMT_Score" else SkipReason.LOW_AESTHETIC_SCORE
    assert filters.check(clip)[0] is expected
    assert AnnotationFilter().check(clip) is None  # no threshold, nothing to fail


def test_a_json_line_that_is_not_an_object_is_an_unreadable_row():
    assert parse_json_line('{"YoutubeID": "x"}') == {"YoutubeID": "x"}
    for line, message in (
        ('{"Caption": "a \\xff"}', "not valid JSON"),
        ("[1, 2]", "JSON list, not an object"),
    ):
        with pytest.raises(AnnotationError, match=message) as info:
            parse_json_line(line)
        assert info.value.reason is SkipReason.UNREADABLE_ROW


def test_filter_rejects_inconsistent_bounds():
    with pytest.raises(ValueError, match="min_duration=5 is above max_duration=1"):
        AnnotationFilter(min_duration=5, max_duration=1)
