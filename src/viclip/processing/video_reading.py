"""Read a few frames of a time range of a video file with PyAV, decoding only what is needed.

An InternVid clip is a few seconds inside a video of several minutes. ``read_video_clip`` seeks to
the keyframe before the range, demuxes (without decoding) up to the end of the range to learn the
exact timestamps of its frames, samples the frames it wants, then decodes from the keyframe before
the first sampled frame to the last sampled frame, never the whole file.

Hostile files cost at most their deadline. Only regular files are opened (a FIFO named ``.mp4`` would block
``open`` forever); frames above a pixel budget are refused from the stream header, before any decoding; and the
whole read runs in a worker thread that the caller waits for at most ``timeout`` seconds. FFmpeg calls cannot be
interrupted from Python (PyAV's ``av.open(timeout=)`` covers network I/O only), so on the deadline the caller
raises ``VideoDecodeTimeout`` and goes on, and the abandoned thread stops itself at its next packet (a call
blocked inside FFmpeg, such as a read from a dead network mount, ends when the OS returns it; it waits without
using a core).

This module is copied next to the processor as Hub remote code: it imports only the standard
library and numpy at module level; ``av`` is imported when a video is read.
"""

import bisect
import contextlib
import itertools
import math
import os
import stat
import struct
import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from .errors import ViCLIPError  # a sibling without imports: Hub folders' remote code carries it along

SAMPLING_STRATEGIES = ("middle", "random", "demo")
DEFAULT_DECODE_TIMEOUT = 120.0
"""Seconds one ``read_video_clip`` may take before the clip is given up (a generous bound for a 4K seek)."""
DEFAULT_MAX_PIXELS = 8192 * 8192
"""Largest frame (width x height) decoded; a 16k x 16k frame is 768 MB as RGB."""

# How far before the requested start the first extra seek goes when the demuxer lands past it.
_SEEK_BACKOFF_SEC = 1.0
# A file whose data stops this much before the duration its header declares is called truncated.
_TRUNCATION_TOLERANCE_SEC = 0.5


class VideoDecodeError(ViCLIPError):
    """A video file cannot be read: missing, empty, not a video, truncated, or a bad time range."""

    def __init__(self, path: "str | os.PathLike[str]", cause: str) -> None:
        self.path = os.fspath(path)
        self.cause = cause
        super().__init__(f"cannot read video '{self.path}': {cause}")


class VideoDecodeTimeout(VideoDecodeError):
    """Reading the clip took longer than its deadline (the file is given up, the job goes on)."""


class ClipRangeError(VideoDecodeError, ValueError):
    """The requested time range is invalid or lies wholly outside the video."""


class ClipRangeWarning(UserWarning):
    """The requested time range was partly outside the video and has been clamped."""


@dataclass(frozen=True)
class ClipInfo:
    """What ``read_video_clip`` read.

    Attributes:
        path: the video file.
        frame_indices: index of each returned frame in the whole video; exact when the container indexes
            every frame (mp4, mov) or the range starts at 0, else counted at the average frame rate
            (exact for constant frame rate).
        timestamps: presentation time of each returned frame, in seconds from the start of the stream.
        start_sec / end_sec: the range actually read, after clamping.
        clamped: True when the requested range was partly outside the video.
        num_range_frames: how many frames the video has in ``[start_sec, end_sec)``.
        fps: the stream's average frame rate (0.0 when unknown).
        duration: the video stream's duration in seconds (``nan`` when the file does not say).
        rotation: counter-clockwise rotation in degrees applied from the display matrix (0, 90, 180, 270).
    """

    path: str
    frame_indices: list[int]
    timestamps: list[float]
    start_sec: float
    end_sec: float
    clamped: bool
    num_range_frames: int
    fps: float
    duration: float
    rotation: int


def sample_frame_indices(
    num_available: int,
    num_frames: int = 8,
    sampling: str = "middle",
    seed: "int | np.random.Generator | None" = None,
) -> list[int]:
    """Choose ``num_frames`` indices in ``range(num_available)`` the way the original ViCLIP does.

    - ``"middle"`` (original evaluation): ``num_frames`` equal segments from
      ``linspace(0, n, num_frames + 1)``, the middle frame ``(start + end - 1) // 2`` of each.
    - ``"random"`` (original training): one random frame per segment (as the original,
      the segment's last frame is never drawn unless it is the only one), drawn from ``seed``.
    - ``"demo"`` (original demo): frames ``0, s, 2s, ...`` with ``s = n // num_frames``.

    With fewer than ``num_frames`` frames every frame is used once and the last one repeated.
    """
    if sampling not in SAMPLING_STRATEGIES:
        raise ValueError(f"sampling must be one of {SAMPLING_STRATEGIES}, got {sampling!r}")
    if not isinstance(num_frames, (int, np.integer)) or num_frames < 1:
        raise ValueError(f"num_frames must be a positive integer, got {num_frames!r}")
    if num_available < 1:
        raise ValueError(f"cannot sample frames from an empty video (num_available={num_available})")

    if sampling == "demo" and num_available >= num_frames:
        step = num_available // num_frames
        return [i * step for i in range(num_frames)]

    count = min(num_frames, num_available)
    edges = np.linspace(0, num_available, count + 1).astype(int)
    if sampling == "random":
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        indices = [int(rng.integers(a, max(a + 1, b - 1))) for a, b in itertools.pairwise(edges)]
    else:  # "middle", and "demo" on a video shorter than num_frames
        indices = [int((a + b - 1) // 2) for a, b in itertools.pairwise(edges)]
    return indices + [indices[-1]] * (num_frames - count)


def _validate_range(path: str, start_sec: float | None, end_sec: float | None) -> None:
    for name, value in (("start_sec", start_sec), ("end_sec", end_sec)):
        if value is None:
            continue
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ClipRangeError(path, f"{name} must be a finite number of seconds, got {value!r}")
        if value < 0:
            raise ClipRangeError(path, f"{name} is negative ({value} s)")
    if end_sec is not None and (start_sec or 0) >= end_sec:
        raise ClipRangeError(
            path, f"the range [{start_sec or 0:g}, {end_sec:g}) s is empty: end_sec must be after start_sec"
        )


# What PyAV/FFmpeg raise on damaged input besides av.FFmpegError (itself an OSError/ValueError subclass): attribute
# errors on a stream without a codec context, EOFError, MemoryError from absurd dimensions, struct/Unicode errors
# in metadata.
DECODE_FAILURES = (
    OSError,
    ValueError,
    IndexError,
    AttributeError,
    RuntimeError,
    EOFError,
    MemoryError,
    struct.error,
    TypeError,
)


@contextlib.contextmanager
def decode_errors(path: str, doing: str = "decoding failed"):
    """Every failure of PyAV/FFmpeg inside the block as a :class:`VideoDecodeError` naming ``path`` and the cause."""
    try:
        yield
    except VideoDecodeError:
        raise
    except DECODE_FAILURES as error:
        raise VideoDecodeError(path, f"{doing} ({type(error).__name__}: {error})") from error


def open_video_file(path: str):
    """``av.open`` of a regular, non-empty file; anything else is a :class:`VideoDecodeError` naming what it is."""
    try:
        import av
    except ImportError as error:  # pragma: no cover - av is a dependency of the viclip package
        raise ImportError("reading video files needs PyAV: pip install av") from error

    try:
        mode = os.stat(path)  # follows a symlink; a symlink loop raises ELOOP
    except FileNotFoundError:
        raise VideoDecodeError(path, "file not found") from None
    except OSError as error:
        raise VideoDecodeError(path, f"cannot be opened ({error.strerror or error})") from None
    if stat.S_ISDIR(mode.st_mode):
        raise VideoDecodeError(path, "is a directory, not a video file")
    if not stat.S_ISREG(mode.st_mode):
        raise VideoDecodeError(path, f"is not a regular file (a {_file_kind(mode.st_mode)})")
    if mode.st_size == 0:
        raise VideoDecodeError(path, "file is empty")
    with decode_errors(path, "not a readable media file"):
        return av.open(path, metadata_errors="ignore")


def _file_kind(mode: int) -> str:
    kinds = {stat.S_ISFIFO: "FIFO", stat.S_ISSOCK: "socket", stat.S_ISCHR: "character device"}
    return next((name for test, name in kinds.items() if test(mode)), "block device")


class _Abandoned(Exception):
    """Raised inside a read whose caller stopped waiting for it (its deadline passed)."""


_reader = threading.local()  # .abandoned: the Event of the read running in this thread, if it has a deadline


def stop_if_abandoned() -> None:
    """Called between packets: a read whose deadline passed stops here, closing its file."""
    abandoned = getattr(_reader, "abandoned", None)
    if abandoned is not None and abandoned.is_set():
        raise _Abandoned


def run_with_deadline(path: str, timeout: float | None, read: Callable[[], tuple]) -> tuple:
    """``read()`` in a worker thread, waited for at most ``timeout`` seconds (``None`` or inf: in this thread)."""
    if timeout is None or timeout == math.inf:
        return read()
    result: dict[str, object] = {}
    abandoned = threading.Event()

    def run() -> None:
        _reader.abandoned = abandoned
        try:
            result["value"] = read()
        except _Abandoned:
            pass
        except BaseException as error:  # handed to the caller
            result["error"] = error

    worker = threading.Thread(target=run, name=f"read_video_clip {os.path.basename(path)}", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        abandoned.set()
        raise VideoDecodeTimeout(
            path, f"no frames after the {timeout:g} s deadline (decode_timeout); given up"
        )
    if "error" in result:
        raise result["error"]
    return result["value"]


def _stream_duration_sec(container, stream) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000  # AV_TIME_BASE
    return math.nan


def _length(duration: float, fps: float) -> str:
    """``(the video is 10.000 s long, 25 frames/s)`` for range errors: the facts the user can act on."""
    if not math.isfinite(duration):
        return "(the file does not declare its duration)"
    rate = f", {fps:g} frames/s" if fps > 0 else ""
    return f"(the video is {duration:.3f} s long{rate})"


def _to_rgb(frame) -> np.ndarray:
    """RGB24 at full resolution (FFmpeg's default conversion), turned upright per the display matrix."""
    rgb = frame.to_ndarray(format="rgb24")
    quarter_turns = round((frame.rotation or 0) / 90) % 4
    return np.ascontiguousarray(np.rot90(rgb, quarter_turns)) if quarter_turns else rgb


def read_video_clip(
    path: "str | os.PathLike[str]",
    start_sec: float | None = None,
    end_sec: float | None = None,
    num_frames: int = 8,
    sampling: "str | Callable[[int], Sequence[int]]" = "middle",
    *,
    seed: "int | np.random.Generator | None" = None,
    num_threads: int = 0,
    timeout: float | None = DEFAULT_DECODE_TIMEOUT,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
) -> tuple[np.ndarray, ClipInfo]:
    """Read ``num_frames`` RGB frames of the range ``[start_sec, end_sec)`` of a video file.

    Args:
        path: the video file.
        start_sec: start of the range in seconds from the start of the video (default: 0).
        end_sec: end of the range, exclusive (default: the end of the video). A range ending after the
            video is clamped with a ``ClipRangeWarning`` and ``info.clamped``.
        num_frames: how many frames to return; a range with fewer frames repeats its last one.
        sampling: ``"middle"``, ``"random"`` or ``"demo"`` (see ``sample_frame_indices``), or a function
            from the number of frames in the range to the indices to return (``num_frames`` is then unused).
        seed: seed or ``numpy.random.Generator`` for ``"random"`` sampling.
        num_threads: FFmpeg decoding threads, 0 lets FFmpeg choose (use 1 in data-loader workers).
        timeout: seconds the whole read may take (``None``: no deadline); past it ``VideoDecodeTimeout`` is
            raised and the read, left in its worker thread, stops at its next packet.
        max_pixels: frames of more pixels (width x height, from the stream header) are refused before decoding
            (``None``: no budget).

    Returns:
        ``(frames, info)``: ``frames`` a uint8 array ``(num_frames, H, W, 3)`` at full resolution,
        upright, converted to RGB the way FFmpeg does by default; ``info`` a ``ClipInfo``.

    Raises:
        VideoDecodeError: missing, empty, not regular (a FIFO), truncated or non-video file, frames above
            ``max_pixels``, or undecodable frames; ``VideoDecodeTimeout`` past the deadline.
        ClipRangeError: (a ``VideoDecodeError`` and ``ValueError``) negative times, ``start >= end``,
            or a range wholly outside the video.
    """
    path = os.fspath(path)
    if not callable(sampling) and sampling not in SAMPLING_STRATEGIES:
        raise ValueError(f"sampling must be one of {SAMPLING_STRATEGIES} or a function, got {sampling!r}")
    if not isinstance(num_frames, (int, np.integer)) or num_frames < 1:
        raise ValueError(f"num_frames must be a positive integer, got {num_frames!r}")
    if not isinstance(num_threads, int) or num_threads < 0:
        raise ValueError(f"num_threads must be a non-negative integer, got {num_threads!r}")
    if timeout is not None and not (isinstance(timeout, (int, float)) and timeout > 0):
        raise ValueError(f"timeout must be a positive number of seconds or None, got {timeout!r}")
    if max_pixels is not None and not (isinstance(max_pixels, (int, np.integer)) and max_pixels > 0):
        raise ValueError(f"max_pixels must be a positive integer or None, got {max_pixels!r}")
    _validate_range(path, start_sec, end_sec)

    def read() -> tuple:
        with decode_errors(path, "decoding failed"), open_video_file(path) as container:
            return _read_clip(
                container, path, start_sec, end_sec, int(num_frames), sampling, seed, num_threads, max_pixels
            )

    frames, info, clamped_from = run_with_deadline(path, timeout, read)
    if clamped_from is not None:  # warned here, in the caller's thread, pointing at the caller
        warnings.warn(
            f"{path}: range [{info.start_sec:.3f}, {clamped_from:.3f}) s ends after the video "
            f"({info.duration:.3f} s); clamped to [{info.start_sec:.3f}, {info.end_sec:.3f}) s",
            ClipRangeWarning,
            stacklevel=2,
        )
    return frames, info


def check_frame_pixels(path: str, stream, max_pixels: int | None) -> None:
    """Refuse a stream whose header announces frames of more than ``max_pixels`` pixels (before decoding)."""
    codec = stream.codec_context
    if codec is None:
        raise VideoDecodeError(path, "the video stream has no decoder (unknown or damaged codec header)")
    width, height = codec.width, codec.height
    if not width or not height or width < 0 or height < 0:
        raise VideoDecodeError(path, f"the video stream announces invalid dimensions {width}x{height}")
    if max_pixels is not None and width * height > max_pixels:
        raise VideoDecodeError(
            path,
            f"its frames are {width}x{height} pixels, above the budget of {max_pixels} pixels "
            f"({_square(max_pixels)}; max_pixels); not decoded",
        )


def _square(pixels: int) -> str:
    side = math.isqrt(pixels)
    return f"{side}x{side}" if side * side == pixels else f"{pixels / 1e6:g} megapixels"


def _read_clip(container, path, start_sec, end_sec, num_frames, sampling, seed, num_threads, max_pixels):
    """``(frames, info, clamped_from)``: ``clamped_from`` is the requested end when the range was clamped."""
    if not container.streams.video:
        raise VideoDecodeError(path, "no video stream in the file")
    stream = container.streams.video[0]
    if stream.time_base is None:
        raise VideoDecodeError(path, "the video stream has no time base")
    check_frame_pixels(path, stream, max_pixels)
    stream.thread_type = "AUTO" if num_threads != 1 else "SLICE"
    stream.codec_context.thread_count = num_threads

    time_base = Fraction(stream.time_base)
    stream_start = stream.start_time or 0
    duration = _stream_duration_sec(container, stream)
    fps = float(stream.average_rate or stream.guessed_rate or 0)

    # Resolve the range against the video's duration.
    start = float(start_sec or 0.0)
    end = float(end_sec) if end_sec is not None else (duration if math.isfinite(duration) else math.inf)
    clamped, clamped_from = False, None
    if math.isfinite(duration):
        if start >= duration:
            raise ClipRangeError(
                path,
                f"the requested range [{start:.3f}, {end:.3f}) s starts after the end of the video "
                f"{_length(duration, fps)}",
            )
        if end > duration:
            end, clamped, clamped_from = duration, True, end

    def to_pts(seconds: float) -> Fraction | float:
        # Fraction(str(x)) takes 5.2 as 26/5, not as the binary float just above it.
        return stream_start + Fraction(str(seconds)) / time_base if math.isfinite(seconds) else math.inf

    def to_sec(pts: int) -> float:
        return float((pts - stream_start) * time_base)

    start_pts, end_pts = to_pts(start), to_pts(end)

    packets, reached_eof, demux_error = _demux_range(container, stream, start_pts, end_pts, time_base)
    range_pts = sorted({_pts(p) for p in packets if start_pts <= _pts(p) < end_pts})
    if demux_error is not None and (not range_pts or not reached_eof):
        last = to_sec(max(_pts(p) for p in packets)) if packets else start
        raise VideoDecodeError(path, f"the file is damaged or truncated near {last:.3f} s ({demux_error})")
    if not range_pts:
        if not packets:
            raise VideoDecodeError(path, "no video frames (empty or truncated file)")
        last = to_sec(max(_pts(p) for p in packets))
        if reached_eof and math.isfinite(duration) and last < min(end, duration) - _TRUNCATION_TOLERANCE_SEC:
            raise VideoDecodeError(
                path, f"the file's frames stop at {last:.3f} s but it declares {duration:.3f} s (truncated?)"
            )
        raise ClipRangeError(
            path, f"no frames in the requested range [{start:.3f}, {end:.3f}) s {_length(duration, fps)}"
        )
    if reached_eof and math.isfinite(duration):
        frame_sec = 1.0 / fps if fps > 0 else 0.0
        data_end = to_sec(range_pts[-1]) + frame_sec
        if data_end < min(end, duration) - _TRUNCATION_TOLERANCE_SEC:
            raise VideoDecodeError(
                path,
                f"the file's frames stop at {data_end:.3f} s but it declares {duration:.3f} s (truncated?)",
            )

    if callable(sampling):
        local = [int(i) for i in sampling(len(range_pts))]
    else:
        local = sample_frame_indices(len(range_pts), num_frames, sampling, seed)
    wanted_pts = sorted({range_pts[i] for i in local})
    decoded = _decode_wanted(stream, packets, wanted_pts, path, max_pixels)
    missing = [to_sec(p) for p in wanted_pts if p not in decoded]
    if missing:
        raise VideoDecodeError(
            path, f"could not decode the frames at {', '.join(f'{t:.3f}' for t in missing)} s (corrupt file?)"
        )

    frames = np.stack([decoded[range_pts[i]] for i in local])
    before = _frames_before(stream, packets[0]) if packets[0].is_keyframe else None
    if before is None and start_pts <= stream_start:
        before = 0  # demuxed from the very first packet
    if before is not None:
        all_pts = sorted(_pts(p) for p in packets)
        frame_indices = [before + bisect.bisect_left(all_pts, range_pts[i]) for i in local]
    else:  # no per-frame index in the container: count at the average frame rate
        first_index = round(to_sec(range_pts[0]) * fps)
        frame_indices = [first_index + i for i in local]
    info = ClipInfo(
        path=path,
        frame_indices=frame_indices,
        timestamps=[to_sec(range_pts[i]) for i in local],
        start_sec=start,
        end_sec=end,
        clamped=clamped,
        num_range_frames=len(range_pts),
        fps=fps,
        duration=duration,
        rotation=(round(max(decoded.rotations, default=0) / 90) % 4) * 90,
    )
    return frames, info, clamped_from


def _frames_before(stream, packet) -> int | None:
    """How many frames precede ``packet`` in decode order, from a container index of every frame (mp4).

    Every frame decoded before a keyframe is presented before it, so this also counts the frames shown
    before it. None when the container does not index every frame (e.g. Matroska cues).
    """
    entries = stream.index_entries
    if not stream.frames or len(entries) != stream.frames or packet.dts is None:
        return None
    low, high = 0, len(entries)
    while low < high:
        mid = (low + high) // 2
        if entries[mid].timestamp < packet.dts:
            low = mid + 1
        else:
            high = mid
    return low if low < len(entries) and entries[low].timestamp == packet.dts else None


def _pts(packet) -> int:
    return packet.pts if packet.pts is not None else packet.dts


def _demux_range(container, stream, start_pts, end_pts, time_base):
    """Packets from the keyframe before ``start_pts`` until decode order passes ``end_pts``.

    Returns ``(packets, reached_eof, error)``; ``error`` is the demuxer's exception if it stopped early.
    """
    import av

    backoff = Fraction(_SEEK_BACKOFF_SEC) / time_base
    seek_pts = start_pts
    stream_start = stream.start_time or 0
    while True:
        if seek_pts > stream_start:
            container.seek(math.floor(seek_pts), stream=stream, backward=True, any_frame=False)
        elif seek_pts != start_pts:  # backed off to the very start
            container.seek(stream_start, stream=stream, backward=True, any_frame=False)
        packets, reached_eof, error = [], True, None
        try:
            for packet in container.demux(stream):
                stop_if_abandoned()
                if packet.size == 0 or (packet.pts is None and packet.dts is None):
                    continue  # the demuxer's final flush packet, or a packet without timestamps
                decode_ts = packet.dts if packet.dts is not None else packet.pts
                if packets and decode_ts >= end_pts:
                    reached_eof = False
                    break
                packets.append(packet)
        except av.FFmpegError as exc:
            error = exc
        # The demuxer may land after the requested start (sparse or inexact index): go back further.
        landed_late = packets and min(_pts(p) for p in packets[:8]) > start_pts
        if landed_late and seek_pts > stream_start:
            seek_pts = max(Fraction(stream_start), seek_pts - backoff)
            backoff *= 2
            continue
        return packets, reached_eof, error


class _DecodedFrames(dict):
    """pts -> RGB frame, plus the display rotations seen."""

    def __init__(self) -> None:
        super().__init__()
        self.rotations: set[int] = set()


def _decode_wanted(stream, packets, wanted_pts, path, max_pixels) -> _DecodedFrames:
    """Decode from the keyframe before the first wanted frame until every wanted frame is out."""
    first = wanted_pts[0]
    begin = 0
    for i, packet in enumerate(packets):
        if packet.is_keyframe and _pts(packet) <= first:
            begin = i
        if _pts(packet) == first:
            break
    wanted = set(wanted_pts)
    decoded = _DecodedFrames()

    def take(frames) -> bool:
        for frame in frames:
            if max_pixels is not None and frame.width * frame.height > max_pixels:  # a size change mid-stream
                raise VideoDecodeError(
                    path,
                    f"a frame of {frame.width}x{frame.height} pixels is above the budget of {max_pixels}",
                )
            pts = frame.pts if frame.pts is not None else frame.dts
            if pts in wanted and pts not in decoded:
                decoded[pts] = _to_rgb(frame)
                decoded.rotations.add(frame.rotation or 0)
        return len(decoded) == len(wanted)

    codec = stream.codec_context
    for packet in packets[begin:]:
        stop_if_abandoned()
        if take(codec.decode(packet)):
            return decoded
    take(codec.decode(None))
    return decoded
