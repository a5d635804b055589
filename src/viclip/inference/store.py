"""The embedding dataset on disk: a folder of Parquet part files that ``datasets`` loads and the Hub accepts.

Layout of ``output_dir``::

    README.md               dataset card whose YAML points ``datasets`` at data/*.parquet
    embedding_info.json     model, revision, fingerprint, preprocessing, window/stride, dimension
    data/part-*.parquet     rows: path, start_sec, end_sec, embedding, model, model_revision, file_size, file_mtime_ns
    failures.jsonl          clips of the last run that could not be read, with the reason
    decoding.json           the clip the in-process engine is decoding right now (gone when a run ends)
    crashed.jsonl           clips a run died while decoding (a crash in native code): listed, not decoded again

Every file is written under a temporary name and renamed, so a run killed at any moment leaves only whole part
files; a rerun reads them to learn which clips are done. A clip is keyed by ``(path, start_sec, end_sec)`` as
requested (``None`` for a whole video).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..data.run_lock import RUN_LOCK_FILE
from ..errors import ViCLIPError

INFO_FILE = "embedding_info.json"
FAILURES_FILE = "failures.jsonl"
DECODING_NOTE_FILE = "decoding.json"
CRASHED_FILE = "crashed.jsonl"
CRASHED_REASON = "the previous run stopped while decoding it"
DATA_DIR = "data"
FORMAT = "viclip-embeddings/1"

ClipKey = tuple[str, float | None, float | None]
# Settings that must match for a rerun to add rows to an existing dataset.
_MATCHING_SETTINGS = ("format", "fingerprint", "dtype", "window_sec", "stride_sec", "dim")


class EmbeddingMismatchError(ViCLIPError, ValueError):
    """``output_dir`` holds embeddings made with another model or other settings."""


def clip_key(path: str, start_sec: float | None, end_sec: float | None) -> ClipKey:
    """The identity of a clip; times are rounded to the millisecond so that float noise cannot split a key."""

    def norm(value: float | None) -> float | None:
        return (
            None
            if value is None or (isinstance(value, float) and np.isnan(value))
            else round(float(value), 3)
        )

    return (str(path), norm(start_sec), norm(end_sec))


def schema(dim: int) -> pa.Schema:
    return pa.schema(
        [
            ("path", pa.string()),
            ("start_sec", pa.float64()),
            ("end_sec", pa.float64()),
            ("embedding", pa.list_(pa.float32(), dim)),
            ("model", pa.string()),
            ("model_revision", pa.string()),
            ("file_size", pa.int64()),
            ("file_mtime_ns", pa.int64()),
        ]
    )


def _write_atomically(path: Path, write: Callable[[Path], Any]) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """``path`` holds ``data`` or what it held before, never part of it (a temporary file, then a rename)."""
    _write_atomically(path, lambda tmp: tmp.write_bytes(data))


def write_table_atomically(path: Path, table: pa.Table) -> None:
    """``table`` as the Parquet file ``path``, all or nothing (a temporary file, then a rename)."""
    _write_atomically(path, lambda tmp: pq.write_table(table, tmp))


def _dataset_card(info: Mapping[str, Any]) -> str:
    return (
        "---\nconfigs:\n- config_name: default\n  data_files: data/*.parquet\n---\n\n"
        f"# ViCLIP video embeddings\n\nMade with `viclip embed` from `{info['model']}` "
        f"(revision `{info['model_revision']}`), {info['dtype']}. Each row is a clip "
        "(`path`, `start_sec`, `end_sec`; null times mean the whole video) and its L2-normalised "
        f"{info['dim']}-d `embedding` (`get_video_features(...).pooler_output`).\n"
    )


@dataclass(frozen=True)
class Failure:
    """A clip (or input row) that could not be embedded or scored, and why: one record for embed, score and the
    ``failures.jsonl`` they write."""

    path: str
    start_sec: float | None
    end_sec: float | None
    error: str

    def describe(self) -> str:
        if self.start_sec is None and self.end_sec is None:
            return self.path
        return f"{self.path} [{self.start_sec or 0:g}s-{'end' if self.end_sec is None else f'{self.end_sec:g}s'}]"

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "start_sec": self.start_sec, "end_sec": self.end_sec, "error": self.error}


class EmbeddingStore:
    """Reads and appends to an embedding dataset folder (see the module docstring)."""

    def __init__(self, output_dir: str | os.PathLike):
        self.root = Path(output_dir)
        self.data_dir = self.root / DATA_DIR
        self._run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}"
        self._num_parts = 0

    # --- settings -------------------------------------------------------------------------------------------
    def read_info(self) -> dict[str, Any] | None:
        path = self.root / INFO_FILE
        return json.loads(path.read_text()) if path.is_file() else None

    def open(self, info: Mapping[str, Any]) -> None:
        """Create the folder, or check that an existing one was made with the same model and settings."""
        existing = self.read_info()
        if existing is not None:
            differ = [k for k in _MATCHING_SETTINGS if existing.get(k) != info.get(k)]
            if differ:
                detail = ", ".join(f"{k}: {existing.get(k)!r} there, {info.get(k)!r} now" for k in differ)
                raise EmbeddingMismatchError(
                    f"{self.root} holds embeddings made with other settings ({detail}); "
                    "use another output folder"
                )
            # A run killed while writing leaves its temporary part behind (never read: only part-*.parquet is).
            for leftover in self.data_dir.glob(".part-*.tmp"):
                leftover.unlink(missing_ok=True)
            return
        if self.root.exists() and any(p.name != RUN_LOCK_FILE for p in self.root.iterdir()):
            raise EmbeddingMismatchError(
                f"{self.root} exists and is not an embedding folder (no {INFO_FILE})"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(self.root / "README.md", _dataset_card(info).encode())
        atomic_write_bytes(self.root / INFO_FILE, (json.dumps(dict(info), indent=2) + "\n").encode())

    # --- rows -----------------------------------------------------------------------------------------------
    def part_files(self) -> list[Path]:
        return sorted(self.data_dir.glob("part-*.parquet")) if self.data_dir.is_dir() else []

    def read_table(self, columns: Sequence[str] | None = None) -> pa.Table | None:
        """Every row of every part file (``None`` when there are none)."""
        parts = self.part_files()
        if not parts:
            return None
        return pa.concat_tables([pq.read_table(p, columns=columns) for p in parts])

    def stored_keys(self) -> dict[ClipKey, tuple[int, int]]:
        """``{clip key: (file_size, file_mtime_ns)}`` of the stored rows."""
        table = self.read_table(["path", "start_sec", "end_sec", "file_size", "file_mtime_ns"])
        if table is None:
            return {}
        columns = table.to_pydict()
        return {
            clip_key(p, s, e): (size, mtime)
            for p, s, e, size, mtime in zip(
                columns["path"],
                columns["start_sec"],
                columns["end_sec"],
                columns["file_size"],
                columns["file_mtime_ns"],
            )
        }

    def drop_rows(self, keys: Iterable[ClipKey]) -> int:
        """Rewrite (atomically) the part files holding ``keys`` without them; returns the rows dropped."""
        keys = set(keys)
        if not keys:
            return 0
        dropped = 0
        for part in self.part_files():
            table = pq.read_table(part)
            columns = table.select(["path", "start_sec", "end_sec"]).to_pydict()
            keep = [
                clip_key(p, s, e) not in keys
                for p, s, e in zip(columns["path"], columns["start_sec"], columns["end_sec"])
            ]
            if all(keep):
                continue
            dropped += keep.count(False)
            kept = table.filter(pa.array(keep))
            if kept.num_rows:
                write_table_atomically(part, kept)
            else:
                part.unlink()
        return dropped

    def drop_stale_rows(self) -> int:
        """Drop (atomically) the rows whose video file changed since it was embedded (another size or modification
        time); the rows of a file not visible from here (a cluster's storage) are kept. Returns the rows dropped."""
        return self.drop_rows(stale_keys(self.stored_keys()))

    def append(self, rows: Mapping[str, Sequence[Any]], dim: int) -> Path:
        """Write ``rows`` (column -> values) as a new part file, atomically."""
        self._num_parts += 1
        path = self.data_dir / f"part-{self._run_id}-{self._num_parts:05d}.parquet"
        write_table_atomically(path, pa.table(dict(rows), schema=schema(dim)))
        return path

    # --- failures -------------------------------------------------------------------------------------------
    def write_failures(self, failures: Sequence[Failure]) -> None:
        lines = "".join(json.dumps(f.to_dict()) + "\n" for f in failures)
        atomic_write_bytes(self.root / FAILURES_FILE, lines.encode())

    def crashed_clips(self) -> dict[ClipKey, tuple[int, int]]:
        """The clips a run died while decoding, with the file's ``(size, mtime_ns)`` then.

        A run that finds the decoding note of a run that died (a segfault or abort inside FFmpeg ends the process
        before it can list the clip) moves it into ``crashed.jsonl``, so no later run decodes that file again
        while it is unchanged."""
        note, crashed = self.root / DECODING_NOTE_FILE, self.root / CRASHED_FILE
        # A note cut short by the kill: the clip it would have named was not decoded yet.
        Path(f"{note}.tmp").unlink(missing_ok=True)
        entries = (
            [json.loads(line) for line in crashed.read_text().splitlines() if line.strip()]
            if crashed.is_file()
            else []
        )
        if note.is_file():
            entries.append(json.loads(note.read_text()))
            atomic_write_bytes(crashed, "".join(json.dumps(e) + "\n" for e in entries).encode())
            note.unlink()
        return {
            clip_key(e["path"], e["start_sec"], e["end_sec"]): (int(e["file_size"]), int(e["file_mtime_ns"]))
            for e in entries
        }

    def read_failures(self) -> list[Failure]:
        path = self.root / FAILURES_FILE
        if not path.is_file():
            return []
        return [Failure(**json.loads(line)) for line in path.read_text().splitlines() if line.strip()]


def stale_keys(stored: Mapping[ClipKey, tuple[int, int]]) -> list[ClipKey]:
    """The keys of ``stored`` (``{key: (file_size, file_mtime_ns)}``) whose file has another size or modification
    time now; a file that cannot be seen from here, and a row stamped ``(-1, -1)``, are never stale."""
    stamps: dict[str, tuple[int, int] | None] = {}
    stale = []
    for key, stamp in stored.items():
        path = key[0]
        if path not in stamps:
            try:
                stat = os.stat(path)
                stamps[path] = (stat.st_size, stat.st_mtime_ns)
            except OSError:
                stamps[path] = None  # not visible from here (a cluster's storage): keep the row
        if stamps[path] is not None and tuple(stamp) != (-1, -1) and stamps[path] != tuple(stamp):
            stale.append(key)
    return stale


def load_embeddings(output_dir: str | os.PathLike) -> tuple[pa.Table, dict[str, Any]]:
    """The rows of an embedding folder (a pyarrow Table) and its ``embedding_info.json``.

    ``datasets.load_dataset(output_dir, split="train")`` reads the same rows.
    """
    store = EmbeddingStore(output_dir)
    info = store.read_info()
    if info is None:
        raise FileNotFoundError(
            f"{output_dir} is not an embedding folder: no {INFO_FILE} (make one with viclip embed)"
        )
    table = store.read_table()
    if table is None:
        table = schema(int(info["dim"])).empty_table()
    return table, info


def embedding_matrix(table: pa.Table) -> np.ndarray:
    """The ``embedding`` column as a contiguous ``(rows, dim)`` float32 array."""
    column = table.column("embedding").combine_chunks()
    dim = column.type.list_size
    return np.ascontiguousarray(
        column.flatten().to_numpy(zero_copy_only=False).reshape(-1, dim), dtype=np.float32
    )
