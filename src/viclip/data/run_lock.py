"""One run per output folder: a lock file in the folder naming the run that holds it (host and pid).

Two jobs writing the same folder (a user starting ``viclip embed`` twice) would interleave part files and
manifests; the second is refused at once with one line naming the first. The lock is ``filelock``'s
``SoftFileLock``: the file ``.viclip-run.lock`` holds the owner's pid, host and process start time; a lock left
by a process that died on this host (kill -9, a crash, a reboot) is taken over, one of a process on another host
(which this host cannot check) is refused with its name and the path to delete once that run is known to be over.
A marker file rather than ``flock``: it works the same on network filesystems and says who holds it.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import inspect
import os
import platform
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from ..errors import ViCLIPError

RUN_LOCK_FILE = ".viclip-run.lock"

_Function = TypeVar("_Function", bound=Callable)


class FolderInUseError(ViCLIPError, RuntimeError):
    """Another run holds the output folder's lock."""


def _holder(lock_path: Path) -> str:
    """``pid 123 on host vm, since 2026-12-03 09:30:12 UTC`` from the marker filelock wrote (pid, host, token)."""
    try:
        lines = lock_path.read_text(encoding="utf-8").splitlines()
        started = datetime.datetime.fromtimestamp(lock_path.stat().st_mtime, datetime.timezone.utc)
    except (OSError, UnicodeDecodeError):
        return "a run that is just starting or ending"
    if len(lines) < 2:
        return "a run that recorded no pid"
    text = f"pid {lines[0]} on host {lines[1]}, since {started:%Y-%m-%d %H:%M:%S} UTC"
    if lines[1] != platform.node():
        text += f"; this host cannot check that pid: if that run is over, delete {lock_path}"
    return text


@contextlib.contextmanager
def run_lock(folder: str | os.PathLike) -> Iterator[Path]:
    """Hold ``folder``'s run lock for the block (the folder is created; removed after if the block left it empty).

    Raises:
        FolderInUseError: another live run holds it (one line: the folder, the holder's pid and host, since when).
    """
    import filelock

    folder = Path(folder)
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    lock_path = folder / RUN_LOCK_FILE
    lock = filelock.SoftFileLock(lock_path, timeout=0)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise FolderInUseError(
            f"{folder} is in use by another run ({_holder(lock_path)}); wait for it to end, or use another "
            "output folder"
        ) from None
    try:
        yield lock_path
    finally:
        lock.release()
        if created:
            with contextlib.suppress(OSError):  # not empty: the run wrote something
                folder.rmdir()


def holds_run_lock(argument: str) -> Callable[[_Function], _Function]:
    """Decorate a job whose output folder is the parameter ``argument``: the call holds that folder's run lock."""

    def decorate(function: _Function) -> _Function:
        signature = inspect.signature(function)

        @functools.wraps(function)
        def locked(*args, **kwargs):
            with run_lock(signature.bind(*args, **kwargs).arguments[argument]):
                return function(*args, **kwargs)

        return locked  # type: ignore[return-value]

    return decorate
