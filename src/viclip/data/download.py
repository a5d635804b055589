"""Download the videos of InternVid annotation rows with ``yt-dlp`` (``pip install 'viclip[download]'``).

Two modes, matching the layouts :mod:`viclip.data.video_locator` reads:

- sections (default): one file per row, only the annotated segment
  (``--download-sections "*HH:MM:SS.mmm-HH:MM:SS.mmm"``), saved as ``{YoutubeID}_{start}_{end}.mp4``;
- whole videos (``--whole``): one ``{YoutubeID}.mp4`` per video, read later by seeking.

Downloads run in parallel: threads of this process (``engine="threads"``), or Ray tasks spread over the
machines of a Ray cluster (``engine="ray"``, ``ray_address=``: one address gets throttled after tens of thousands
of downloads; every node must see ``out_dir`` at the same path). Files already present are skipped, so a rerun
resumes. Each download goes to ``{out}/.incomplete/`` under a name of its own attempt and is moved into place only
when yt-dlp succeeds (what a failed attempt leaves there is removed). Failures (dead, private, geo-blocked videos
are common) are written to ``{out}/failures.jsonl`` by the driver; ``--skip-failed`` does not retry them.

Faults: a Ray task whose worker dies (killed, out of memory, a lost node) is retried ``RAY_TASK_RETRIES`` times,
then listed in the failures; a download is moved into place by rename, so a retry never makes a second copy. A
full disk (yt-dlp's write or ours fails with ENOSPC, EDQUOT or EFBIG) stops the job at once with one line
(:class:`~viclip.data.disk_full.DiskFullError`): the downloads it interrupted are not listed as failed, and a
rerun after space is freed resumes.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from ..processing import VIDEO_EXTENSIONS
from .annotations import AnnotationError, ClipAnnotation, parse_json_line, parse_row
from .disk_full import DiskFullError, disk_full_error, mentions_disk_full, stop_on_full_disk
from .run_lock import holds_run_lock
from .video_locator import clip_filename

logger = logging.getLogger(__name__)

FAILURES_FILE = "failures.jsonl"
ENGINES = ("threads", "ray")
_INCOMPLETE = ".incomplete"
RAY_CPUS_PER_DOWNLOAD = 0.25
"""Cores a Ray download task reserves: yt-dlp mostly waits on the network (4 downloads per core)."""
RAY_TASK_RETRIES = 3
"""Times a download's Ray task is rerun after its worker died, before the download is listed as failed."""


@dataclass(frozen=True)
class DownloadJob:
    """One yt-dlp call: a whole video (``clip is None``) or one section of it."""

    youtube_id: str
    clip: ClipAnnotation | None = None

    @property
    def key(self) -> str:
        if self.clip is None:
            return self.youtube_id
        return Path(clip_filename(self.youtube_id, self.clip.start_sec, self.clip.end_sec)).stem

    @property
    def url(self) -> str:
        return f"https://www.youtube.com/watch?v={self.youtube_id}"


@dataclass
class DownloadReport:
    """What a :func:`download_internvid` run did, by job key."""

    downloaded: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    skipped_known_failures: list[str] = field(default_factory=list)
    bad_rows: int = 0

    def summary(self) -> str:
        return (
            f"{len(self.downloaded)} downloaded, {len(self.existing)} already present, {len(self.failed)} failed, "
            f"{len(self.skipped_known_failures)} known failures skipped, {self.bad_rows} bad annotation rows"
        )


def find_yt_dlp(executable: str | None = None) -> list[str]:
    """The command that runs yt-dlp: ``executable``, ``yt-dlp`` on PATH, or ``python -m yt_dlp``."""
    if executable:
        path = shutil.which(executable) or (executable if Path(executable).is_file() else None)
        if path is None:
            raise FileNotFoundError(f"yt-dlp executable {executable!r} not found")
        return [path]
    if path := shutil.which("yt-dlp"):
        return [path]
    try:
        import yt_dlp  # noqa: F401
    except ImportError:
        raise FileNotFoundError("yt-dlp is not installed: pip install 'viclip[download]'") from None
    return [sys.executable, "-m", "yt_dlp"]


def iter_annotation_rows(files: Sequence[str | os.PathLike]) -> Iterator[dict]:
    """Raw rows of local InternVid JSON Lines / Parquet files, read with ``datasets`` (streamed).

    A JSON Lines row comes as ``{"text": line}`` (as ``load_internvid`` reads it); :func:`plan_jobs` parses it.
    """
    from .internvid import AnnotationSource, annotation_builder, iter_source_rows

    paths = tuple(os.fspath(f) for f in files)
    annotation_builder(paths)
    source = AnnotationSource(path=None, name=None, data_files=paths)
    yield from (raw for _, raw in iter_source_rows(source, 0, 1))


def plan_jobs(rows: Iterable[dict], sections: bool, report: DownloadReport) -> list[DownloadJob]:
    """Unique jobs of the valid rows (bad rows are counted in ``report.bad_rows``)."""
    jobs: dict[str, DownloadJob] = {}
    for i, raw in enumerate(rows):
        try:
            clip = parse_row(parse_json_line(raw["text"]) if set(raw) == {"text"} else raw)
        except AnnotationError as e:
            report.bad_rows += 1
            logger.debug("row %d not downloadable: %s", i, e)
            continue
        job = DownloadJob(clip.youtube_id, clip if sections else None)
        jobs.setdefault(job.key, job)
    return list(jobs.values())


def _existing_file(job: DownloadJob, out_dir: Path) -> Path | None:
    names = [f"{job.key}.mp4"] if job.clip is not None else [f"{job.key}{ext}" for ext in VIDEO_EXTENSIONS]
    for name in names:
        if (out_dir / name).is_file():
            return out_dir / name
    return None


def _command(
    job: DownloadJob, yt_dlp: list[str], tmp_stem: Path, max_height: int, extra: Sequence[str]
) -> list[str]:
    command = [
        *yt_dlp,
        "--no-playlist",
        "--no-progress",
        "--quiet",
        "--no-warnings",
        "-f",
        f"bv*[height<={max_height}][ext=mp4]/bv*[height<={max_height}]/b[height<={max_height}]/bv*/b",
        "--merge-output-format",
        "mp4",
        "--remux-video",
        "mp4",
        "-o",
        f"{tmp_stem}.%(ext)s",
    ]
    if job.clip is not None:
        command += ["--download-sections", f"*{job.clip.start_timestamp}-{job.clip.end_timestamp}"]
    return [*command, *extra, job.url]


def _run_job(
    job: DownloadJob, yt_dlp: list[str], out_dir: Path, max_height: int, extra: Sequence[str], timeout: float
) -> tuple[DownloadJob, str | None]:
    """Run one download; ``(job, None)`` on success, ``(job, error)`` otherwise.

    Raises:
        DiskFullError: yt-dlp or the move into place failed for lack of space, quota or file size.
    """
    if _existing_file(job, out_dir) is not None:  # a retry of a task whose worker died after the move
        return job, None
    tmp_dir = out_dir / _INCOMPLETE
    for stale in tmp_dir.glob(f"{job.key}.*"):  # what earlier attempts left
        stale.unlink(missing_ok=True)
    # A name of this attempt's own: yt-dlp of a killed worker may still be writing under an earlier one.
    stem = tmp_dir / f"{job.key}.{uuid.uuid4().hex[:8]}"
    try:
        result = subprocess.run(
            _command(job, yt_dlp, stem, max_height, extra), capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        _remove_attempt(stem)
        return job, f"timed out after {timeout:.0f} s"
    except OSError as e:
        return job, f"could not run yt-dlp: {e}"
    produced = sorted(p for p in tmp_dir.glob(f"{stem.name}.*") if not p.name.endswith((".part", ".ytdl")))
    if result.returncode != 0 or not produced:
        _remove_attempt(stem)
        output = (result.stderr or result.stdout or "").strip()
        lines = [line for line in output.splitlines() if line.strip()]
        error = lines[-1] if lines else "no file produced"
        if mentions_disk_full(output):
            raise disk_full_error(out_dir, f"yt-dlp: {error}")
        return job, f"yt-dlp exit {result.returncode}: {error}"
    source = next((p for p in produced if p.suffix == ".mp4"), produced[0])
    suffix = ".mp4" if job.clip is not None or source.suffix not in VIDEO_EXTENSIONS else source.suffix
    os.replace(source, out_dir / f"{job.key}{suffix}")
    _remove_attempt(stem)
    return job, None


def _remove_attempt(stem: Path) -> None:
    for leftover in stem.parent.glob(f"{stem.name}.*"):
        leftover.unlink(missing_ok=True)


def _run_on_threads(
    jobs: list[DownloadJob], workers: int, ray_address: str | None, job_args: tuple
) -> Iterator[tuple[DownloadJob, str | None]]:
    pool = ThreadPoolExecutor(max_workers=workers)
    futures = [pool.submit(_run_job, job, *job_args) for job in jobs]
    try:
        for future in as_completed(futures):
            yield future.result()
    finally:  # a full disk stops the job: the queued downloads are not started
        pool.shutdown(wait=True, cancel_futures=True)


def _run_on_ray(
    jobs: list[DownloadJob], workers: int, ray_address: str | None, job_args: tuple
) -> Iterator[tuple[DownloadJob, str | None]]:
    """Each download a Ray task, ``workers`` in flight, spread over the nodes; results as they finish.

    A task whose worker dies is retried ``RAY_TASK_RETRIES`` times, then its job is yielded as failed.
    """
    from .ray_runtime import import_ray, ray_session

    ray = import_ray()
    with ray_session(ray_address):
        task = ray.remote(_run_job).options(
            num_cpus=RAY_CPUS_PER_DOWNLOAD, scheduling_strategy="SPREAD", max_retries=RAY_TASK_RETRIES
        )
        shared = [ray.put(arg) for arg in job_args]
        pending, queue = {}, list(reversed(jobs))
        try:
            while queue or pending:
                while queue and len(pending) < workers:
                    job = queue.pop()
                    pending[task.remote(job, *shared)] = job
                ready, _ = ray.wait(list(pending), num_returns=1)
                job = pending.pop(ready[0])
                try:
                    result = ray.get(ready[0])
                except DiskFullError as error:  # Ray's wrapper of the task's error: raise the error itself
                    raise getattr(error, "cause", error) from None
                except Exception as e:  # its worker died every time: this job failed, the others go on
                    result = job, f"Ray task failed: {type(e).__name__}: {e}".splitlines()[0]
                yield result
        finally:  # a full disk stops the job: the downloads in flight are interrupted (yt-dlp killed)
            for ref in pending:
                ray.cancel(ref)


def _read_failures(path: Path) -> dict[str, dict]:
    if not path.is_file():
        return {}
    failures = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                entry = json.loads(line)
                failures[entry["key"]] = entry
    return failures


def _write_failures(path: Path, failures: dict[str, dict]) -> None:
    tmp = path.with_name(f".tmp-{path.name}")
    try:
        with stop_on_full_disk(path.parent, writing=path.name), open(tmp, "w", encoding="utf-8") as f:
            for entry in failures.values():
                f.write(json.dumps(entry) + "\n")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@holds_run_lock("out_dir")
def download_internvid(
    annotation_files: Sequence[str | os.PathLike],
    out_dir: str | os.PathLike,
    *,
    sections: bool = True,
    workers: int = 4,
    yt_dlp: str | None = None,
    max_height: int = 360,
    limit: int | None = None,
    skip_failed: bool = False,
    extra_args: Sequence[str] = (),
    timeout: float = 900.0,
    progress: bool = True,
    engine: str | None = None,
    ray_address: str | None = None,
) -> DownloadReport:
    """Download the videos (or sections) of InternVid annotation files into ``out_dir``.

    Args:
        annotation_files: local JSON Lines / Parquet files in the InternVid schema.
        out_dir: the ``video_root`` to fill.
        sections: download only each row's segment (default), else whole videos.
        workers: yt-dlp processes running at once (over the whole cluster with ``engine="ray"``).
        yt_dlp: the yt-dlp executable (default: ``yt-dlp`` on PATH, or the ``yt_dlp`` module).
        max_height: highest video resolution to fetch (ViCLIP uses 224 px).
        limit: download at most this many jobs (after skipping present files).
        skip_failed: do not retry jobs listed in ``failures.jsonl`` from earlier runs.
        extra_args: more yt-dlp arguments (e.g. ``["--cookies", "cookies.txt"]``).
        timeout: seconds allowed per download.
        engine: ``"threads"`` (this machine) or ``"ray"`` (Ray tasks of :data:`RAY_CPUS_PER_DOWNLOAD` cores,
            spread over the nodes); default ``"ray"`` when ``ray_address`` is given, else ``"threads"``.
        ray_address: the Ray cluster (``"host:6379"``, ``"ray://host:10001"``, ``"auto"``); with
            ``engine="ray"`` and no address, a local Ray instance (or the one already initialised).
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    engine = engine or ("ray" if ray_address else "threads")
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    if engine == "threads" and ray_address:
        raise ValueError(f"ray_address={ray_address!r} needs engine='ray'")
    command = find_yt_dlp(yt_dlp)
    out = Path(out_dir)
    with stop_on_full_disk(out):
        (out / _INCOMPLETE).mkdir(parents=True, exist_ok=True)
    report = DownloadReport()
    jobs = plan_jobs(iter_annotation_rows(annotation_files), sections, report)
    failures_path = out / FAILURES_FILE
    failures = _read_failures(failures_path)

    todo = []
    for job in jobs:
        if _existing_file(job, out) is not None:
            report.existing.append(job.key)
            failures.pop(job.key, None)
        elif skip_failed and job.key in failures:
            report.skipped_known_failures.append(job.key)
        else:
            todo.append(job)
    todo = todo[:limit] if limit is not None else todo

    run = _run_on_ray if engine == "ray" else _run_on_threads
    results = run(todo, workers, ray_address, (command, out, max_height, tuple(extra_args), timeout))
    try:
        _collect(results, len(todo), progress, report, failures)
    except DiskFullError:
        with contextlib.suppress(DiskFullError):  # what finished before is kept
            _write_failures(failures_path, failures)
        raise
    _write_failures(failures_path, failures)
    logger.info("InternVid download: %s", report.summary())
    return report


def _collect(results, total: int, progress: bool, report: DownloadReport, failures: dict[str, dict]) -> None:
    """Record each finished download in ``report`` and ``failures`` (driver side)."""
    for job, error in tqdm(results, total=total, desc="yt-dlp", disable=not progress):
        if error is None:
            report.downloaded.append(job.key)
            failures.pop(job.key, None)
        else:
            report.failed[job.key] = error
            logger.info("download of %s failed: %s", job.key, error)
            failures[job.key] = {
                "key": job.key,
                "youtube_id": job.youtube_id,
                "start_timestamp": job.clip.start_timestamp if job.clip else None,
                "end_timestamp": job.clip.end_timestamp if job.clip else None,
                "error": error,
            }
