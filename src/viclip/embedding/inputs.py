"""What to embed: a folder, a clip list (CSV/TSV/JSONL), InternVid rows or Python clips -> ``VideoClip``s; windows.

A clip list has the columns ``path,start_sec,end_sec`` (``start``/``end`` accepted as aliases; empty times mean
the whole video; relative paths are relative to the list's folder, or to ``video_root`` when given). A list whose
rows have a ``YoutubeID`` column is InternVid rows: each row's video is found under ``video_root`` (whole
``{YoutubeID}.mp4`` videos or pre-cut ``{YoutubeID}_{start}_{end}.mp4`` clips).
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..data.video_list import clip_from_row, list_videos, read_list_rows
from ..processing import VideoClip, VideoDecodeError
from ..processing.video_reading import decode_errors

LIST_SUFFIXES = (".csv", ".tsv", ".jsonl", ".json")
_SHARD_SUFFIXES = (".tar", ".parquet", ".arrow")


def resolve_inputs(
    inputs: str | os.PathLike | Iterable[Any], video_root: str | os.PathLike | None = None
) -> tuple[list[VideoClip], list[tuple[str, str]]]:
    """The clips named by ``inputs``, in order, without duplicates, with absolute paths; plus ``(row, reason)``
    for rows that name no readable clip (an InternVid row whose video is not under ``video_root``).

    Raises:
        FileNotFoundError: ``inputs`` does not exist, or a folder holds no video.
        ValueError: a list row is malformed (the file, line and key are named).

    A folder written by ``viclip prepare`` is read by :mod:`.prepared`, not here.
    """
    unmatched: list[tuple[str, str]] = []
    if isinstance(inputs, (str, os.PathLike)):
        path = Path(inputs)
        if not path.exists():
            raise FileNotFoundError(f"inputs {str(path)!r} do not exist")
        if path.is_dir():
            clips = list_folder(path)
        elif path.suffix.lower() in LIST_SUFFIXES:
            clips = list(_read_list(path, video_root, unmatched))
        else:
            clips = [VideoClip(str(path))]
    else:
        clips = [VideoClip.coerce(item) for item in inputs]
    # Absolute paths: the rows and the index that store them open the videos from any working directory.
    clips = [dataclasses.replace(clip, path=os.path.abspath(clip.path)) for clip in clips]
    return list(dict.fromkeys(clips)), unmatched


def list_folder(folder: Path) -> list[VideoClip]:
    """Every video file under ``folder``, recursively, sorted, as whole-video clips."""
    try:
        return list_videos(folder)
    except FileNotFoundError:
        if any(p.suffix.lower() in _SHARD_SUFFIXES for p in folder.rglob("*")):
            raise FileNotFoundError(
                f"{folder} holds shard files but no videos, and is not a prepared folder (no prepare_config.json): "
                "embed the source videos, or a folder written by viclip prepare"
            ) from None
        raise


def _read_list(path: Path, video_root: str | os.PathLike | None, unmatched: list) -> Iterator[VideoClip]:
    from ..data.annotations import YOUTUBE_ID

    base = Path(video_root) if video_root is not None else path.parent
    locator = None
    for where, raw in read_list_rows(path):
        if YOUTUBE_ID in raw:
            if locator is None:
                locator = _internvid_locator(video_root, where)
            clip = locator.locate_row(raw, where, unmatched)
            if clip is not None:
                yield clip
            continue
        yield clip_from_row(raw, where, base, check_exists=False)  # a missing video is a listed failure


def _internvid_locator(video_root, where: str):
    from ..data.video_locator import VideoLocator

    if video_root is None:
        raise ValueError(f"{where}: InternVid rows (YoutubeID) need video_root, the folder of their videos")
    return VideoLocator(video_root)


def plan_windows(duration_sec: float, window_sec: float, stride_sec: float) -> list[tuple[float, float]]:
    """Windows of ``window_sec`` starting every ``stride_sec`` that cover ``[0, duration_sec)``.

    The last window ends at the end of the video (it starts earlier than the stride grid if needed), so every
    moment is in at least one window and every window is full length; a video shorter than one window is one
    window. Times are rounded to the millisecond.
    """
    if not (window_sec > 0 and stride_sec > 0):
        raise ValueError(f"window ({window_sec}) and stride ({stride_sec}) must be positive seconds")
    if stride_sec > window_sec:
        raise ValueError(
            f"stride {stride_sec:g} s is longer than the window {window_sec:g} s: windows would leave gaps"
        )
    if not (math.isfinite(duration_sec) and duration_sec > 0):
        raise ValueError(f"cannot cut windows from a video of duration {duration_sec}")
    if duration_sec <= window_sec:
        return [(0.0, round(duration_sec, 3))]
    windows = []
    start = 0.0
    while start + window_sec < duration_sec:
        windows.append((round(start, 3), round(start + window_sec, 3)))
        start += stride_sec
    last = (round(duration_sec - window_sec, 3), round(duration_sec, 3))
    if windows[-1] != last:
        windows.append(last)
    return windows


_TRUNCATION_TOLERANCE_SEC = (
    0.5  # read_video_clip's: frames stopping this much before the declared end are a cut
)


@dataclasses.dataclass(frozen=True)
class VideoExtent:
    """How long a video's frames last: ``duration`` seconds, and ``declared`` the duration its header gives when
    the frames stop more than half a second before it (a truncated file), else ``None``."""

    duration: float
    declared: float | None = None


def probe_extent(path: str) -> VideoExtent:
    """The extent of a video's first video stream, from its header, checked against its last frames (no decoding).

    The header's duration is trusted when frames are found near its end (one seek and a few packets); otherwise
    (a file cut short: the header says 10 s, the frames stop at 5.5 s) the stream is demuxed from the start and
    the extent ends after its last packet that lies whole in the file.

    Raises:
        VideoDecodeError: the file is missing, not a video, or has no frames.
    """
    import av

    if not os.path.isfile(path):
        raise VideoDecodeError(path, "file not found")
    with (
        decode_errors(path, "not a readable media file"),
        av.open(path, metadata_errors="ignore") as container,
    ):
        if not container.streams.video:
            raise VideoDecodeError(path, "no video stream in the file")
        stream = container.streams.video[0]
        declared = _declared_duration(container, stream)
        if declared is not None and _frames_reach(container, stream, declared, os.path.getsize(path)):
            return VideoExtent(declared)
        container.seek(0)
        end = _frames_end(container.demux(stream), stream, os.path.getsize(path))
    if end <= 0:
        raise VideoDecodeError(path, "no frames in the video stream")
    if declared is not None and end < declared - _TRUNCATION_TOLERANCE_SEC:
        return VideoExtent(end, declared)
    return VideoExtent(end if declared is None else declared)


def _declared_duration(container, stream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000  # AV_TIME_BASE
    return None


def _frames_reach(container, stream, declared: float, file_size: int) -> bool:
    """Whether whole packets reach within the tolerance of the declared end (seeking to the keyframe before it)."""
    import av

    start = stream.start_time or 0
    target = start + int(max(0.0, declared - _TRUNCATION_TOLERANCE_SEC) / stream.time_base)
    try:
        container.seek(target, stream=stream, backward=True, any_frame=False)
        end = _frames_end(container.demux(stream), stream, file_size)
    except av.FFmpegError:
        return False
    return end >= declared - _TRUNCATION_TOLERANCE_SEC


def _frames_end(packets, stream, file_size: int) -> float:
    """Seconds from the stream's start to the end of the last packet lying whole in the file, before its last
    byte (0.0: none)."""
    import av

    start = stream.start_time or 0
    frame_sec = 1 / float(stream.average_rate) if stream.average_rate else 0.0
    end = 0.0
    try:
        for packet in packets:
            if packet.size == 0 or packet.pts is None:
                continue
            if packet.pos is not None and packet.pos >= 0 and packet.pos + packet.size >= file_size:
                # Reaching the end of the file, it may be cut short (the demuxer returns what is there, and
                # decoding it fails in avcodec_send_packet): not counted; in a whole file it is one frame.
                break
            length = float(packet.duration * stream.time_base) if packet.duration else frame_sec
            end = max(end, float((packet.pts - start) * stream.time_base) + length)
    except av.FFmpegError:
        pass  # the demuxer stopped at the damage: the packets before it count
    return end


def expand_windows(
    clips: Sequence[VideoClip], durations: Mapping[str, float], window_sec: float, stride_sec: float
) -> list[VideoClip]:
    """Each clip as windows: a whole video over its duration, a clip with a range over that range."""
    out = []
    for clip in clips:
        start = clip.start_sec or 0.0
        end = clip.end_sec if clip.end_sec is not None else durations[clip.path]
        end = min(end, durations[clip.path])
        for s, e in plan_windows(end - start, window_sec, stride_sec):
            out.append(VideoClip(clip.path, round(start + s, 3), round(start + e, 3)))
    return out
