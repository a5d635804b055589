"""Shared fixtures: a small synthetic InternVid, and a copy with every kind of bad row."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import pytest

from viclip.data.synthetic import (
    SyntheticClip,
    SyntheticDataset,
    _background,
    _render_segment,
    generate_synthetic_internvid,
    write_video,
)
from viclip.data.video_locator import clip_filename
from viclip.processing import ViCLIPProcessor

NUM_VIDEOS, CLIPS_PER_VIDEO = 4, 3


@pytest.fixture(scope="session", autouse=True)
def _datasets_cache_in_tmp(tmp_path_factory):
    """Keep the lock files that ``datasets`` builders write out of the user's cache."""
    import datasets

    old = datasets.config.HF_DATASETS_CACHE
    datasets.config.HF_DATASETS_CACHE = tmp_path_factory.mktemp("hf_datasets_cache")
    yield
    datasets.config.HF_DATASETS_CACHE = old


@pytest.fixture(scope="session")
def synthetic(tmp_path_factory) -> SyntheticDataset:
    return generate_synthetic_internvid(
        tmp_path_factory.mktemp("synthetic"),
        num_videos=NUM_VIDEOS,
        clips_per_video=CLIPS_PER_VIDEO,
        seconds=3.0,
        size=64,
        fps=8,
        seed=0,
        progress=False,
    )


@pytest.fixture(scope="session")
def processor() -> ViCLIPProcessor:
    """A tiny processor (4 frames of 32x32) keeps the tests fast."""
    return ViCLIPProcessor.for_model(image_size=32, num_frames=4)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _frames(seconds: float, fps: int = 8) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    return _render_segment(
        _background(64, 64, rng), SyntheticClip("red", "circle", "left"), int(seconds * fps), rng
    )


def _write_truncated_video(path: Path) -> None:
    """A file that opens (index at the front) but whose data stops half-way."""
    with av.open(str(path), "w", format="mp4", options={"movflags": "faststart"}) as container:
        stream = container.add_stream("libx264", rate=8)
        stream.width = stream.height = 64
        stream.pix_fmt = "yuv420p"
        for frame in _frames(5.0):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode(None))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _row(youtube_id: str, start: str, end: str, caption: str = "a red circle moves to the left") -> dict:
    return {
        "YoutubeID": youtube_id,
        "Start_timestamp": start,
        "End_timestamp": end,
        "Caption": caption,
        "Aesthetic_Score": 5.0,
        "UMT_Score": 0.4,
    }


@dataclass
class BrokenSet:
    annotations: Path
    parquet: Path
    video_root: Path
    good_rows: list[int]
    """Row indices that must become examples."""
    reasons: dict[str, int]
    """Expected skip counts by reason."""
    bad_rows: dict[int, str]
    """Row index -> skip reason."""
    rows: list[dict]
    """The rows as written (a caption that is not valid UTF-8 holds surrogate escapes)."""


@pytest.fixture(scope="session")
def broken(tmp_path_factory, synthetic) -> BrokenSet:
    """The synthetic rows interleaved with one row of every failure kind, plus one pre-cut clip."""
    root = tmp_path_factory.mktemp("broken")
    video_root = root / "videos"
    shutil.copytree(synthetic.video_dir, video_root)
    (video_root / "corruptVid0.mp4").write_bytes(np.random.default_rng(0).bytes(4096))
    _write_truncated_video(video_root / "truncVid000.mp4")
    write_video(video_root / clip_filename("precutVid01", 10.0, 12.5), _frames(2.5), fps=8)

    good_id = read_jsonl(synthetic.annotations)[0]["YoutubeID"]  # a video that exists
    bad = [
        (_row("missingVid0", "00:00:00.100", "00:00:01.000"), "missing_video"),
        (_row("corruptVid0", "00:00:00.100", "00:00:01.000"), "corrupt_video"),
        (_row("truncVid000", "00:00:04.000", "00:00:04.800"), "corrupt_video"),
        (_row("LHD8nQo5vQ0", "00:00:xx.100", "00:00:01.000"), "bad_timestamp"),
        (_row("LHD8nQo5vQ0", "00:00:02.000", "00:00:01.000"), "empty_segment"),
        (_row(good_id, "00:10:00.000", "00:10:01.000"), "segment_out_of_range"),  # the video is 3 s long
        ({**_row(good_id, "00:00:00.100", "00:00:01.000"), "UMT_Score": "high"}, "bad_score"),
        # a JSON lone surrogate escape, "\udc80": valid JSON, not valid text
        (_row(good_id, "00:00:00.100", "00:00:01.000", caption="a \udc80 circle"), "bad_text"),
        # a raw 0xff byte in the file: the line is not valid UTF-8, hence not valid JSON
        (_row(good_id, "00:00:00.100", "00:00:01.000", caption=RAW_BYTE_CAPTION), "unreadable_row"),
    ]
    rows, good, bad_rows = [], [], {}
    good_source = [*read_jsonl(synthetic.annotations), _row("precutVid01", "00:00:10.000", "00:00:12.500")]
    for i, row in enumerate(good_source):
        rows.append(row)
        good.append(len(rows) - 1)
        if i < len(bad):
            rows.append(bad[i][0])
            bad_rows[len(rows) - 1] = bad[i][1]
    annotations = root / "annotations.jsonl"
    annotations.write_bytes(b"".join(_jsonl_line(row) for row in rows))
    parquet = _write_parquet(root / "annotations.parquet", rows)
    reasons: dict[str, int] = {}
    for reason in bad_rows.values():
        reasons[reason] = reasons.get(reason, 0) + 1
    return BrokenSet(annotations, parquet, video_root, good, reasons, bad_rows, rows)


# A caption holding the byte 0xff, as a str with a surrogate escape (written to files as the raw byte).
RAW_BYTE_CAPTION = b"a \xff circle".decode("utf-8", "surrogateescape")


def _jsonl_line(row: dict) -> bytes:
    if row["Caption"] == RAW_BYTE_CAPTION:
        return (json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8", "surrogateescape")
    return (json.dumps(row) + "\n").encode()  # ensure_ascii: a lone surrogate is written as "\udc80"


def _write_parquet(path: Path, rows: list[dict]) -> Path:
    """The rows as Parquet; text that is not valid UTF-8 is stored as its raw bytes (Parquet does not check)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = {}
    for key in rows[0]:
        values = [row[key] for row in rows]
        if any(isinstance(v, str) for v in values):  # a score spelled "high" makes its column text
            raw = [str(v).encode("utf-8", "surrogateescape") for v in values]
            columns[key] = pa.array(raw, pa.binary()).view(pa.string())
        else:
            columns[key] = pa.array(values, pa.float64())
    pq.write_table(pa.table(columns), path)
    return path


# Prepared shards (tests/data/test_prepare*.py, test_prepared*.py): one local Ray instance for the session.
PREPARE_OPTIONS = {"rows_per_shard": 2, "short_side": 48, "progress": False}


@pytest.fixture(scope="session")
def four_frame_model_dir(tmp_path_factory) -> Path:
    """A model folder (its config only) whose model takes 4 frames: its default processor gives 4."""
    from viclip_testing import tiny_config

    folder = tmp_path_factory.mktemp("four-frame-model")
    tiny_config(num_frames=4).save_pretrained(folder)
    return folder


@dataclass
class PreparedSet:
    folder: Path
    source: BrokenSet
    annotations: Path
    reasons: dict[str, int]
    """Expected skip counts by reason, with min_umt_score=0.1 (the NaN score) and the non-UTF-8 caption."""
    options: dict
    """The prepare_internvid options it was made with (filters aside)."""


@pytest.fixture(scope="session")
def prepared(tmp_path_factory, broken, ray_local, four_frame_model_dir) -> PreparedSet:
    """The broken set plus a NaN score and a non-UTF-8 caption, prepared for a 4-frame model with PREPARE_OPTIONS."""
    from viclip.data import AnnotationFilter, prepare_internvid

    root = tmp_path_factory.mktemp("prepared")
    annotations = root / "annotations.jsonl"
    nan_row = json.dumps(_row("LHD8nQo5vQ0", "00:00:00.100", "00:00:01.000")).replace("0.4", "NaN")
    bad_caption = json.dumps(_row("LHD8nQo5vQ0", "00:00:00.100", "00:00:01.000", caption="CAPTION"))
    annotations.write_bytes(
        broken.annotations.read_bytes()
        + nan_row.encode()
        + b"\n"
        + bad_caption.encode().replace(b"CAPTION", b"bad \xff\xfe bytes")
        + b"\n"
    )
    options = {
        **PREPARE_OPTIONS,
        "processor": str(four_frame_model_dir),
    }  # a folder: the child script gets it
    prepare_internvid(
        root / "out",
        video_root=broken.video_root,
        data_files=annotations,
        filters=AnnotationFilter(min_umt_score=0.1),
        **options,
    )
    reasons = dict(broken.reasons)
    for reason in ("low_umt_score", "unreadable_row"):  # a stray byte makes its JSON line unreadable
        reasons[reason] = reasons.get(reason, 0) + 1
    return PreparedSet(root / "out", broken, annotations, reasons, options)
