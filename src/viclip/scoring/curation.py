"""Curation: score a captioned clip list (or InternVid rows) into a Parquet dataset, resumably.

The folder holds ``data/part-*.parquet`` (every input column, ``viclip_score``, ``viclip_percentile``, ``model``,
``model_revision``; with ``min_score`` / ``min_percentile`` only the rows at or above them), ``scoring_info.json``
(model fingerprint, protocol, thresholds, the reference set's name, version, sha256 and size),
``failures.jsonl`` and a ``README.md`` whose YAML makes ``datasets.load_dataset(folder)`` read the parts. Parts are
written under a temporary name and renamed, so a killed run loses at most the rows since its last part; a rerun
scores only the rows not yet there (kept or dropped) and refuses another model, protocol, threshold or reference set.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..data.run_lock import RUN_LOCK_FILE, holds_run_lock
from ..errors import ViCLIPError
from ..inference.store import Failure, atomic_write_bytes, write_table_atomically
from .inputs import ScoringInputs, ScoringRow, read_scoring_inputs
from .reference import PERCENTILE_COLUMN
from .scorer import Scorer, ScorerSettings, describe_reference, score_distribution

if TYPE_CHECKING:
    from typing_extensions import Unpack  # typing.Unpack from Python 3.11 on

INFO_FILE = "scoring_info.json"
FAILURES_FILE = "failures.jsonl"
DATA_DIR = "data"
DONE_FILE = "done.jsonl"  # keys of every row scored, kept or not, so a rerun skips them
SCORE_COLUMN = "viclip_score"
_README = """---
configs:
- config_name: default
  data_files:
  - split: train
    path: data/*.parquet
---
# ViCLIP scores

Rows of the input with their `viclip_score` (cosine of ViCLIP's video and text features) and `viclip_percentile`
(the share of the reference captions whose cosine with the clip is lower), written by `viclip score`. See
`scoring_info.json` for the model, protocol and reference set.
"""


class ScoringMismatchError(ViCLIPError, ValueError):
    """The output folder holds scores of another model, protocol, threshold or reference set."""


@dataclass
class CurationResult:
    output_dir: Path
    num_rows: int  # pairs asked for
    num_scored: int  # scored by this run
    num_kept: int  # of those, at or above min_score and min_percentile
    num_reused: int  # already in the folder
    failures: list[Failure] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)  # this run's scores
    percentiles: list[float] = field(default_factory=list)  # and percentiles (empty without a reference set)
    reference: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        text = (
            f"{self.num_rows} pairs: {self.num_scored} scored ({self.num_kept} kept), {self.num_reused} already "
            f"done, {len(self.failures)} clips failed -> {self.output_dir}"
        )
        if self.scores:
            text += "\nscores: " + score_distribution(np.asarray(self.scores))
        if self.percentiles:
            text += "\npercentiles: " + score_distribution(np.asarray(self.percentiles))
            text += f" (reference: {describe_reference(self.reference)})"
        return text


def row_key(row: ScoringRow) -> str:
    """A row's identity: its clip and text (hashed)."""
    clip = row.clip
    return hashlib.sha1(json.dumps([clip.path, clip.start_sec, clip.end_sec, row.text]).encode()).hexdigest()[
        :20
    ]


@holds_run_lock("output_dir")
def score_to_folder(
    inputs: str | os.PathLike | Iterable[Any] | ScoringInputs,
    model: Any,
    output_dir: str | os.PathLike,
    *,
    video_root: str | os.PathLike | None = None,
    min_score: float | None = None,
    min_percentile: float | None = None,
    rows_per_part: int = 4096,
    flush_seconds: float = 60.0,
    progress: bool = True,
    **settings: Unpack[ScorerSettings],
) -> CurationResult:
    """Score every (clip, text) row of ``inputs`` into the Parquet dataset ``output_dir`` (see the module); the
    call holds the folder's run lock (a second run into it is refused with ``FolderInUseError``).

    Args:
        inputs: a clip list with a ``text``/``caption`` column, InternVid rows (with ``video_root``), a prepared
            folder (``viclip prepare``), pairs, or what :func:`~.inputs.read_scoring_inputs` already read.
        model: a :class:`~.scorer.Scorer`, or a model for a new one with ``settings`` (:class:`ScorerSettings`:
            processor, protocol, engine, dtype, device, optimize, decode_timeout, max_pixels).
            reference, reference_size, reference_seed, reference_cache: the percentiles' reference set.
        min_score: keep only the rows scoring at least this (``None``: keep all).
        min_percentile: keep only the rows whose percentile is at least this, in [0, 1] (needs a reference set).
    """
    if min_score is not None and not np.isfinite(min_score):
        raise ValueError(f"min_score must be a finite number, got {min_score}")
    if min_percentile is not None and not 0.0 <= min_percentile <= 1.0:
        raise ValueError(f"min_percentile must be in [0, 1], got {min_percentile}")
    read = inputs if isinstance(inputs, ScoringInputs) else read_scoring_inputs(inputs, video_root)
    scorer = model if isinstance(model, Scorer) else Scorer(model, **settings)
    spec = scorer.spec
    reference = scorer.reference_for(
        read.rows
    )  # from every row, so a resumed run samples the same 'self' set
    if min_percentile is not None and reference is None:
        raise ValueError("min_percentile needs a reference set (reference=None gives no percentiles)")
    settings_stored = {"fingerprint": spec.fingerprint, **scorer.protocol.describe(), "min_score": min_score}
    settings_stored["min_percentile"] = min_percentile
    settings_stored.update(reference.describe() if reference is not None else {"reference": None})
    folder = _open_folder(Path(output_dir), settings_stored, spec)
    done = _done_keys(folder)
    keys = [row_key(r) for r in read.rows]
    todo = [i for i, k in enumerate(keys) if k not in done]
    rows = [read.rows[i] for i in todo]
    writer = _PartWriter(folder, spec.name, spec.revision, rows_per_part, flush_seconds)
    failures: dict[Failure, None] = {}
    scores: list[float] = []
    percentiles: list[float] = []
    kept = 0
    try:
        for scored in scorer.scores(
            rows, progress=progress, prepared_files=read.prepared_files, reference=reference
        ):
            if scored.failure is not None:
                failures[scored.failure] = None
                continue
            scores.append(scored.score)
            if scored.percentile is not None:
                percentiles.append(scored.percentile)
            keep = (min_score is None or scored.score >= min_score) and (
                min_percentile is None or scored.percentile >= min_percentile
            )
            kept += keep
            writer.add(rows[scored.index], keys[todo[scored.index]], scored.score, scored.percentile, keep)
    finally:
        writer.flush()
    all_failures = [Failure(where, None, None, reason) for where, reason in read.unmatched]
    all_failures += list(failures)
    _write_failures(folder, all_failures)
    return CurationResult(
        folder,
        len(read.rows),
        len(scores),
        kept,
        len(read.rows) - len(rows),
        all_failures,
        scores,
        percentiles,
        {} if reference is None else reference.describe(),
    )


def _open_folder(folder: Path, settings: dict[str, Any], spec) -> Path:
    info_path = folder / INFO_FILE
    if info_path.is_file():
        stored = json.loads(info_path.read_text(encoding="utf-8"))
        different = sorted(k for k in settings if stored.get(k) != settings[k])
        if different:
            raise ScoringMismatchError(
                f"{folder} holds scores made with other settings ({', '.join(different)} differ): use another "
                "--output-dir"
            )
        return folder
    if folder.exists() and any(path.name != RUN_LOCK_FILE for path in folder.iterdir()):
        raise ScoringMismatchError(f"{folder} exists and is not a scoring folder (no {INFO_FILE})")
    (folder / DATA_DIR).mkdir(parents=True, exist_ok=True)
    info = {"format": "viclip-scores/1", "model": spec.name, "model_revision": spec.revision, **settings}
    atomic_write_bytes(info_path, json.dumps(info, indent=2).encode())
    atomic_write_bytes(folder / "README.md", _README.encode())
    return folder


def _done_keys(folder: Path) -> set[str]:
    path = folder / DONE_FILE
    if not path.is_file():
        return set()
    keys: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            keys.update(json.loads(line))
    return keys


class _PartWriter:
    """Buffers scored rows; writes each part atomically, then appends its keys (kept or not) to ``done.jsonl``."""

    def __init__(self, folder: Path, model: str, revision: str, rows_per_part: int, flush_seconds: float):
        self.folder, self.model, self.revision = folder, model, revision
        self.rows_per_part, self.flush_seconds = rows_per_part, flush_seconds
        self.kept: list[dict[str, Any]] = []
        self.keys: list[str] = []
        self.last_flush = time.monotonic()

    def add(self, row: ScoringRow, key: str, score: float, percentile: float | None, keep: bool) -> None:
        self.keys.append(key)
        if keep:
            columns = dict(row.columns) if row.columns else _pair_columns(row)
            columns.update({SCORE_COLUMN: score, PERCENTILE_COLUMN: percentile})
            columns.update({"model": self.model, "model_revision": self.revision})
            self.kept.append(columns)
        if len(self.keys) >= self.rows_per_part or time.monotonic() - self.last_flush >= self.flush_seconds:
            self.flush()

    def flush(self) -> None:
        import pyarrow as pa

        if self.kept:
            existing = sorted((self.folder / DATA_DIR).glob("part-*.parquet"))
            target = self.folder / DATA_DIR / f"part-{len(existing):05d}.parquet"
            write_table_atomically(target, pa.Table.from_pylist([_plain(r) for r in self.kept]))
        if self.keys:
            with open(self.folder / DONE_FILE, "a", encoding="utf-8") as f:
                f.write(json.dumps(self.keys) + "\n")
        self.kept, self.keys = [], []
        self.last_flush = time.monotonic()


def _pair_columns(row: ScoringRow) -> dict[str, Any]:
    return {
        "path": row.clip.path,
        "start_sec": row.clip.start_sec,
        "end_sec": row.clip.end_sec,
        "text": row.text,
    }


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """Input values as Parquet takes them (anything unusual as its JSON text)."""
    plain = {}
    for key, value in row.items():
        if value is None or isinstance(value, (str, int, float, bool)):
            plain[str(key)] = value
        else:
            plain[str(key)] = json.dumps(value, default=str)
    return plain


def _write_failures(folder: Path, failures: Sequence[Failure]) -> None:
    atomic_write_bytes(
        folder / FAILURES_FILE, "".join(json.dumps(f.to_dict()) + "\n" for f in failures).encode()
    )
