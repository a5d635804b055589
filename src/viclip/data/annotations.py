"""InternVid annotation rows: the schema, timestamp parsing, validation and filtering.

A raw row looks like ``{"YoutubeID": "HdYoyzCSWyw", "Start_timestamp": "00:03:10.567",
"End_timestamp": "00:03:11.200", "Caption": "...", "Aesthetic_Score": 4.59, "UMT_Score": 0.398}``.
:func:`parse_row` turns it into a :class:`ClipAnnotation` or raises :class:`AnnotationError` carrying a
:class:`SkipReason`; :class:`AnnotationFilter` applies the quality filters.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from ..errors import ViCLIPError

YOUTUBE_ID = "YoutubeID"
START = "Start_timestamp"
END = "End_timestamp"
CAPTION = "Caption"
AESTHETIC = "Aesthetic_Score"
UMT = "UMT_Score"
INTERNVID_COLUMNS: tuple[str, ...] = (YOUTUBE_ID, START, END, CAPTION, AESTHETIC, UMT)
REQUIRED_COLUMNS: tuple[str, ...] = (YOUTUBE_ID, START, END, CAPTION)

_TIMESTAMP = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:\.\d+)?)$")
# YouTube ids are [A-Za-z0-9_-]; anything else (a path separator, "..") must never reach the file system.
_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class SkipReason(str, Enum):
    """Why a row produced no example. The values are the keys of the skip summary."""

    UNREADABLE_ROW = "unreadable_row"  # a line of the annotation file that is not a JSON object
    MISSING_FIELD = "missing_field"
    BAD_TEXT = "bad_text"  # a text field that is not valid UTF-8 (a stray byte, a lone surrogate)
    BAD_YOUTUBE_ID = "bad_youtube_id"
    BAD_TIMESTAMP = "bad_timestamp"
    BAD_SCORE = "bad_score"
    EMPTY_SEGMENT = "empty_segment"
    LOW_UMT_SCORE = "low_umt_score"
    LOW_AESTHETIC_SCORE = "low_aesthetic_score"
    DURATION_OUT_OF_BOUNDS = "duration_out_of_bounds"
    SHORT_CAPTION = "short_caption"
    MISSING_VIDEO = "missing_video"
    SEGMENT_OUT_OF_RANGE = "segment_out_of_range"  # the segment lies outside the video file found for it
    CORRUPT_VIDEO = "corrupt_video"
    PROCESSING_ERROR = "processing_error"


class AnnotationError(ViCLIPError, ValueError):
    """A row that cannot become an example; ``reason`` says why."""

    def __init__(self, reason: SkipReason, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class ClipAnnotation:
    """One validated InternVid row, times in seconds."""

    youtube_id: str
    start_sec: float
    end_sec: float
    caption: str
    start_timestamp: str
    end_timestamp: str
    aesthetic_score: float | None = None
    umt_score: float | None = None

    @property
    def duration(self) -> float:
        return self.end_sec - self.start_sec


def parse_timestamp(value: Any) -> float:
    """``"HH:MM:SS.mmm"`` (or ``"MM:SS.mmm"``, or a number of seconds) -> seconds as a float.

    Raises:
        ValueError: naming the value, when it is not a finite, non-negative time.
    """
    if isinstance(value, bool):
        raise ValueError(f"invalid timestamp {value!r}: expected 'HH:MM:SS.mmm'")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str):
        match = _TIMESTAMP.match(value.strip())
        if match is None:
            raise ValueError(f"invalid timestamp {value!r}: expected 'HH:MM:SS.mmm'")
        hours, minutes, secs = match.groups()
        if int(minutes) >= 60 or float(secs) >= 60:
            raise ValueError(f"invalid timestamp {value!r}: minutes and seconds must be below 60")
        seconds = int(hours or 0) * 3600 + int(minutes) * 60 + float(secs)
    else:
        raise ValueError(f"invalid timestamp {value!r}: expected 'HH:MM:SS.mmm', got {type(value).__name__}")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"invalid timestamp {value!r}: must be finite and non-negative")
    return seconds


def format_timestamp(seconds: float) -> str:
    """Seconds -> ``"HH:MM:SS.mmm"`` (the InternVid format; inverse of :func:`parse_timestamp`)."""
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def optional_float(value: Any) -> float | None:
    """``None`` for a missing or blank value, else ``float(value)`` (``ValueError``/``TypeError`` when it is not
    a number). The one reader of optional numeric fields of annotation rows and video lists."""
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return None
    if isinstance(value, bool):
        raise TypeError(f"{value!r} is not a number")
    return float(value)


def _score(row: Mapping[str, Any], key: str) -> float | None:
    try:
        return optional_float(row.get(key))
    except (TypeError, ValueError):
        raise AnnotationError(SkipReason.BAD_SCORE, f"{key}={row.get(key)!r} is not a number") from None


def _text(row: Mapping[str, Any], key: str) -> str:
    """A text field as ``str``; undecodable bytes or a lone surrogate (``"\\udc80"`` in JSON) are ``BAD_TEXT``."""
    value = row[key]
    if isinstance(value, (bytes, bytearray)):
        raise AnnotationError(SkipReason.BAD_TEXT, f"{key}={bytes(value)!r} is not valid UTF-8")
    text = str(value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise AnnotationError(
            SkipReason.BAD_TEXT, f"{key}={text!r} is not valid text (a lone surrogate)"
        ) from None
    return text


def parse_json_line(line: str) -> dict[str, Any]:
    """One line of a JSON Lines annotation file -> the raw row.

    Raises:
        AnnotationError: ``UNREADABLE_ROW`` when the line is not a JSON object.
    """
    try:
        row = json.loads(line)
    except json.JSONDecodeError as e:
        raise AnnotationError(
            SkipReason.UNREADABLE_ROW, f"not valid JSON ({e.msg} at column {e.colno})"
        ) from None
    if not isinstance(row, dict):
        raise AnnotationError(SkipReason.UNREADABLE_ROW, f"a JSON {type(row).__name__}, not an object")
    return row


def parse_row(row: Mapping[str, Any]) -> ClipAnnotation:
    """Validate one raw InternVid row.

    Raises:
        AnnotationError: with the :class:`SkipReason` and a message naming the field and value.
    """
    for key in REQUIRED_COLUMNS:
        if row.get(key) in (None, ""):
            raise AnnotationError(SkipReason.MISSING_FIELD, f"missing {key}")
    youtube_id, caption = _text(row, YOUTUBE_ID), _text(row, CAPTION)
    if not _SAFE_ID.match(youtube_id):
        raise AnnotationError(SkipReason.BAD_YOUTUBE_ID, f"{YOUTUBE_ID}={youtube_id!r} is not a YouTube id")
    try:
        start = parse_timestamp(row[START])
        end = parse_timestamp(row[END])
    except ValueError as e:
        raise AnnotationError(SkipReason.BAD_TIMESTAMP, str(e)) from None
    if end <= start:
        raise AnnotationError(
            SkipReason.EMPTY_SEGMENT, f"start {row[START]!r} is not before end {row[END]!r}"
        )
    return ClipAnnotation(
        youtube_id=youtube_id,
        start_sec=start,
        end_sec=end,
        caption=caption,
        start_timestamp=str(row[START]),
        end_timestamp=str(row[END]),
        aesthetic_score=_score(row, AESTHETIC),
        umt_score=_score(row, UMT),
    )


@dataclass(frozen=True)
class AnnotationFilter:
    """Quality filters on rows; ``None`` (or 0 words) disables a filter.

    A row without the score a filter needs does not pass that filter.
    """

    min_umt_score: float | None = None
    min_aesthetic_score: float | None = None
    min_duration: float | None = None
    max_duration: float | None = None
    min_caption_words: int = 0

    def __post_init__(self):
        if (
            self.min_duration is not None
            and self.max_duration is not None
            and self.min_duration > self.max_duration
        ):
            raise ValueError(f"min_duration={self.min_duration} is above max_duration={self.max_duration}")
        if self.min_caption_words < 0:
            raise ValueError(f"min_caption_words must be >= 0, got {self.min_caption_words}")

    def check(self, clip: ClipAnnotation) -> tuple[SkipReason, str] | None:
        """``None`` when ``clip`` passes, else the reason and a message."""
        # `not score >= threshold`, not `score < threshold`: a NaN score fails, as a missing one does.
        if self.min_umt_score is not None and not _at_least(clip.umt_score, self.min_umt_score):
            return SkipReason.LOW_UMT_SCORE, f"UMT_Score {clip.umt_score} is not >= {self.min_umt_score}"
        if self.min_aesthetic_score is not None and not _at_least(
            clip.aesthetic_score, self.min_aesthetic_score
        ):
            return (
                SkipReason.LOW_AESTHETIC_SCORE,
                f"Aesthetic_Score {clip.aesthetic_score} is not >= {self.min_aesthetic_score}",
            )
        if (self.min_duration is not None and clip.duration < self.min_duration) or (
            self.max_duration is not None and clip.duration > self.max_duration
        ):
            return (
                SkipReason.DURATION_OUT_OF_BOUNDS,
                f"duration {clip.duration:.3f}s outside [{self.min_duration}, {self.max_duration}]",
            )
        if self.min_caption_words and len(clip.caption.split()) < self.min_caption_words:
            return SkipReason.SHORT_CAPTION, f"caption has fewer than {self.min_caption_words} words"
        return None


def _at_least(score: float | None, threshold: float) -> bool:
    return score is not None and score >= threshold


def describe_row(row: Mapping[str, Any], index: int | None = None) -> str:
    """A short name for a raw row in log messages: ``row 12 (HdYoyzCSWyw 00:03:10.567-00:03:11.200)``."""
    where = f"row {index} " if index is not None else ""
    return f"{where}({row.get(YOUTUBE_ID)} {row.get(START)}-{row.get(END)})"
